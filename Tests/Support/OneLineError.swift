import XCTest

/// Asserts that `body` throws an error whose text is one line holding every fragment, and
/// returns the error for checks of its own (its type or kind). Every "bad input gives a
/// one-line error" test goes through here.
@discardableResult
public func assertOneLineError<T>(_ body: () throws -> T, mentions fragments: [String] = [],
                                  file: StaticString = #filePath, line: UInt = #line) -> Error? {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(fragments)", file: file, line: line)
        return nil
    } catch {
        let text = "\(error)"
        XCTAssertFalse(text.isEmpty, "the error says nothing", file: file, line: line)
        XCTAssertFalse(text.contains("\n"), "the error should be one line: \(text)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(text.contains(fragment), "the error should mention '\(fragment)': \(text)", file: file, line: line)
        }
        return error
    }
}
