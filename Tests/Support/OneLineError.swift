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
/// fragment, within issue #28's bound for bad input: 10 s of CPU time (enforced by the kernel)
/// and 2 GB of peak memory (an upper bound on it: `NanoWMExecutable.Result.peakMemoryBytes`). ArgumentParser's usage lines and progress-bar lines (starting with
/// one of `progressLabels` and " [") are not counted.
@discardableResult
public func assertCommandFailsWithOneLine(_ arguments: [String], mentions fragments: [String], progressLabels: [String] = [],
                                          environment: [String: String] = [:],
                                          file: StaticString = #filePath, line: UInt = #line) throws -> NanoWMExecutable.Result {
    let limits = NanoWMExecutable.Limits.hostileInput
    let result = try NanoWMExecutable.run(arguments, environment: environment, limits: limits)
    print("bounded run of nanowm \(arguments.prefix(2).joined(separator: " ")): exit \(result.status), "
          + "peak at most \(result.peakMemoryBytes >> 20) MB, \(String(format: "%.2f", result.cpuSeconds)) s CPU")
    XCTAssertFalse(result.hung, "\(arguments) blocked for \(limits.hangSeconds) s", file: file, line: line)
    XCTAssertNotEqual(result.signal, SIGXCPU, "\(arguments) used more than \(limits.cpuSeconds) s of CPU", file: file, line: line)
    XCTAssertLessThan(result.peakMemoryBytes, NanoWMExecutable.Limits.memoryBytes,
                      "\(arguments) peaked at \(result.peakMemoryBytes >> 20) MB", file: file, line: line)
    XCTAssertNotEqual(result.status, 0, "\(arguments) should fail", file: file, line: line)
    XCTAssertNil(result.signal, "\(arguments) was killed by signal \(result.signal ?? 0): \(result.error)", file: file, line: line)
    let lines = result.error.split(separator: "\n").filter { text in
        !text.hasPrefix("Usage") && !text.hasPrefix("  See") && !text.isEmpty && !progressLabels.contains { text.hasPrefix($0 + " [") }
    }
    XCTAssertEqual(lines.count, 1, "one line of error expected: \(result.error)", file: file, line: line)
    for fragment in fragments {
        XCTAssertTrue(result.error.contains(fragment), "'\(fragment)' missing from: \(result.error)", file: file, line: line)
    }
    return result
}
