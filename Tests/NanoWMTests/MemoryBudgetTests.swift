import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

final class MemoryBudgetTests: XCTestCase {
    /// 2 clips × 1000 frames of 4×32×32 float32 grow to 2 copies (65.5 MB) plus 16 windows of
    /// 4 frames (4.2 MB): 69.7 MB.
    func testEstimateCountsTheGrowingResultAndTheWindow() {
        let budget = MemoryBudget.generation(batch: 2, frames: 1000, window: 4, frameShape: [4, 32, 32], available: nil)
        XCTAssertEqual(budget.needed, 2 * 4096 * 4 * (2 * 1000 + 16 * 4))
    }

    func testRefusesWhatCannotFitAndNotesLargeRuns() throws {
        let huge = MemoryBudget(needed: 12.3e9, available: 8.1e9)
        XCTAssertThrowsError(try huge.check(fix: "--frames")) {
            XCTAssertEqual("\($0)", "this run needs ~12.3 GB, 8.1 GB available; lower --frames")
        }
        XCTAssertEqual(try MemoryBudget(needed: 2.5e9, available: 8.1e9).check(fix: "--frames"),
                       "this run needs ~2.5 GB of memory (8.1 GB available)")
        XCTAssertNil(try MemoryBudget(needed: 1e6, available: 8.1e9).check(fix: "--frames"))
        // Absurd frame counts stay finite numbers instead of overflowing Int.
        let absurd = MemoryBudget.generation(batch: 64, frames: Int.max, window: 4, frameShape: [4, 64, 64], available: 1e12)
        XCTAssertThrowsError(try absurd.check(fix: "--frames"))
    }

    func testReadsMemAvailableFromMeminfo() throws {
        let scratch = try TemporaryDirectory("meminfo")
        defer { scratch.remove() }
        let file = scratch.path("meminfo")
        try "MemTotal:       32000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n".write(toFile: file, atomically: false, encoding: .utf8)
        XCTAssertEqual(MemoryBudget.availableBytes(meminfo: file), 8_000_000 * 1024)
        XCTAssertNil(MemoryBudget.availableBytes(meminfo: scratch.path("absent")))
    }
}
