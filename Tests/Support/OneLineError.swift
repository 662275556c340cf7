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

/// Runs `nanowm arguments` and asserts it exits ≠ 0 with one line of error holding every
/// fragment; ArgumentParser's usage lines and progress-bar lines (starting with one of
/// `progressLabels` and " [") are not counted.
public func assertCommandFailsWithOneLine(_ arguments: [String], mentions fragments: [String], progressLabels: [String] = [],
                                          file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try NanoWMExecutable.run(arguments)
    XCTAssertNotEqual(result.status, 0, "\(arguments) should fail", file: file, line: line)
    let lines = result.error.split(separator: "\n").filter { text in
        !text.hasPrefix("Usage") && !text.hasPrefix("  See") && !text.isEmpty && !progressLabels.contains { text.hasPrefix($0 + " [") }
    }
    XCTAssertEqual(lines.count, 1, "one line of error expected: \(result.error)", file: file, line: line)
    for fragment in fragments {
        XCTAssertTrue(result.error.contains(fragment), "'\(fragment)' missing from: \(result.error)", file: file, line: line)
    }
}
