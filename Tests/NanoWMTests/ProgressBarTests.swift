import XCTest
@testable import NanoWM
@testable import NanoWMFormats

final class ProgressBarTests: XCTestCase {
    /// After a resume at step 10 000, one step in one second is 1 it/s, not 10 001 it/s, and
    /// the ETA follows from that rate.
    func testRateCountsOnlyStepsDoneInThisProcess() {
        let resumed = ProgressBar("train", total: 10_010, startingAt: 10_000)
        let line = resumed.line(10_001, elapsed: 1, "")
        XCTAssertTrue(line.contains("10001/10010 1.0 it/s ETA 0:09"), line)
        XCTAssertTrue(resumed.line(10_000, elapsed: 0.5, "").contains("10000/10010 -- it/s ETA --"))

        let fresh = ProgressBar("train", total: 100)
        XCTAssertTrue(fresh.line(20, elapsed: 4, "").contains("20/100 5.0 it/s ETA 0:16"))
        // A bar created just before its first update shows no rate yet, not a huge one.
        XCTAssertTrue(fresh.line(1, elapsed: 0.00001, "").contains("1/100 -- it/s ETA --"))
    }
}
