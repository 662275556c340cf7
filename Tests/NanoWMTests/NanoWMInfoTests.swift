import XCTest
@testable import NanoWM

final class NanoWMInfoTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertFalse(NanoWMInfo.version.isEmpty)
    }
}
