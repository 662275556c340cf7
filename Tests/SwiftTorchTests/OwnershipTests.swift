import Foundation
import SwiftTorch
import XCTest

/// Every Tensor frees its libtorch handle in deinit: resident memory stays flat across many
/// short-lived tensors. The bound (64 MiB of growth over 100k iterations that each make two
/// 64 KiB tensors, which a leak would keep: about 12 GiB) tolerates allocator caching, not leaks.
final class OwnershipTests: XCTestCase {
    private func residentBytes() throws -> Int {
        let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let pages = Int(statm.split(separator: " ")[1]) ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func testShortLivedTensorsDoNotLeak() throws {
        let x = try Tensor.ones([128, 128])
        for _ in 0..<1000 { _ = try (x * 2.0 + 1.0).sum() }
        let before = try residentBytes()
        for _ in 0..<100_000 { _ = try (x * 2.0 + 1.0).sum() }
        let grown = try residentBytes() - before
        XCTAssertLessThan(grown, 64 << 20, "resident memory grew by \(grown >> 20) MiB")
    }

    func testFailedCallsThrowWithoutLeakingOrCrashing() throws {
        let a = try Tensor.zeros([2, 3])
        for _ in 0..<1000 {
            XCTAssertThrowsError(try a.reshape(7))
        }
        XCTAssertThrowsError(try a.reshape(7)) { error in
            XCTAssertTrue("\(error)".contains("invalid for input of size 6"), "\(error)")
        }
    }
}
