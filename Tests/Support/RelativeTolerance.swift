import XCTest

/// Asserts |actual − expected| / max(|expected|, 1e-12) ≤ `tolerance`, and prints the measured
/// relative difference, so a test log shows how much room a comparison had.
public func assertRelativelyClose(_ actual: Double, _ expected: Double, _ tolerance: Double, _ what: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
    let relative = abs(actual - expected) / max(abs(expected), 1e-12)
    print("\(what): \(actual) vs \(expected), relative difference \(relative) (tolerance \(tolerance))")
    XCTAssertLessThanOrEqual(relative, tolerance, "\(what): \(actual) vs \(expected)", file: file, line: line)
}
