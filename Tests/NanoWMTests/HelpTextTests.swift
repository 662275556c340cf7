import TestSupport
import XCTest

/// ArgumentParser wraps help text to the terminal itself; a hard line break inside a
/// paragraph shows as a broken line on any terminal wider than the source.
final class HelpTextTests: XCTestCase {
    func testParagraphsAreNotBrokenMidSentence() throws {
        let commands = [[], ["quickstart"], ["run"], ["train"], ["sample"], ["rollout"], ["forward"], ["ckpt", "inspect"],
                        ["ckpt", "convert"], ["codec", "encode"], ["codec", "decode"], ["encode-dataset"], ["config"], ["model", "info"], ["doctor"], ["smoke"],
                        ["evaluate"], ["metrics"], ["compare"]]
        for command in commands {
            let result = try NanoWMExecutable.run(command + ["--help"], environment: ["COLUMNS": "1000"])
            XCTAssertEqual(result.status, 0, "\(command): \(result.error)")
            let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // Two consecutive flush-left lines are one paragraph cut in two, unless the first
            // introduces a list ("Examples:") or continues a command line ("\").
            for (line, next) in zip(lines, lines.dropFirst()) where !line.isEmpty && !next.isEmpty {
                guard !line.hasPrefix(" "), !next.hasPrefix(" "), !line.hasSuffix(":"), !line.hasSuffix("\\") else { continue }
                XCTFail("nanowm \(command.joined(separator: " ")) --help breaks a paragraph:\n\(line)\n\(next)")
            }
        }
    }
}
