import Foundation
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore

/// Hostile configuration input (issue #12): each case used to crash (stack overflow), take over
/// 30 s (quadratic work) or grow past 4 GB (YAML alias bomb). Each must now be refused with one
/// line naming the limit, and input just inside the limits must still work. The 20 s bound on
/// each case only guards against a hang; nothing here measures speed.
final class HostileConfigTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try writeConfig("seed: 1\n")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func writeConfig(_ text: String) throws {
        try text.write(to: root.appendingPathComponent("config.yaml"), atomically: false, encoding: .utf8)
    }

    private func compose(_ overrides: [String] = []) throws -> ConfigNode {
        try ConfigComposer(root: root, environment: [:]).compose(overrides: overrides)
    }

    /// Runs `body`, which must throw a one-line `ConfigError` of `kind` whose message contains `words`.
    private func assertRefused(_ kind: ConfigError.Kind, _ words: String, file: StaticString = #filePath, line: UInt = #line,
                               _ body: () throws -> Any) {
        let start = Date()
        let error = assertOneLineError(body, mentions: [words], file: file, line: line)
        if let error {
            guard let error = error as? ConfigError else { return XCTFail("expected a ConfigError, got \(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, kind, error.message, file: file, line: line)
            XCTAssertLessThan(error.message.count, 600, "a hostile input is not echoed whole", file: file, line: line)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "hang guard", file: file, line: line)
    }

    private func nested(_ open: String, _ inner: String, _ close: String, _ depth: Int) -> String {
        String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
    }

    // MARK: Override values and keys

    func testDeeplyNestedOverrideListsAreRefused() throws {
        assertRefused(.invalidOverride, "nests deeper than") { try compose(["++foo=" + nested("[", "", "]", 20_000)]) }
        // A one-part key leaves 99 levels to the value.
        let config = try compose(["++foo=" + nested("[", "1", "]", 99)])
        XCTAssertEqual(config["foo" + String(repeating: "[0]", count: 98)], .sequence([1]))
        assertRefused(.invalidOverride, "nests deeper than 99 levels") { try compose(["++foo=" + nested("[", "1", "]", 100)]) }
    }

    func testDeeplyNestedOverrideMappingsAreRefused() throws {
        assertRefused(.invalidOverride, "nests deeper than") { try compose(["++foo=" + nested("{a: ", "1", "}", 25_000)]) }
        let config = try compose(["++foo=" + nested("{a: ", "1", "}", 99)])
        XCTAssertEqual(config["foo" + String(repeating: ".a", count: 99)], 1)
    }

    func testDeeplyNestedInterpolationsAreRefused() throws {
        let deep = nested("${", "seed", "}", 30_000)
        assertRefused(.invalidOverride, "'${' nests deeper than 100") { try compose(["++foo=" + deep]) }
        // Quoted, the text reaches the resolver's own parser.
        assertRefused(.interpolation, "'${' nests deeper than 100") { try compose(["++foo='\(deep)'"]) }
        // Within the limit: the inner interpolations name the key the outer one reads.
        try writeConfig("seed: 1\nk: seed\n")
        XCTAssertEqual(try compose(["++foo=" + nested("${", "k", "}", 2)])["foo"], 1)
    }

    func testHugeDottedKeysAreRefused() throws {
        let huge = Array(repeating: "a", count: 65_000).joined(separator: ".")
        assertRefused(.invalidOverride, "over the limit of 4096") { try compose(["++\(huge)=1"]) }
        assertRefused(.invalidOverride, "over the limit of 4096") { try compose(["\(huge)=1"]) }
        let long = Array(repeating: "a", count: 2_000).joined(separator: ".")
        assertRefused(.invalidOverride, "the key has 2000 parts") { try compose(["++\(long)=1"]) }
        let deepest = Array(repeating: "a", count: 100).joined(separator: ".")
        XCTAssertEqual(try compose(["++\(deepest)=1"])[deepest], 1)
        assertRefused(.invalidOverride, "nests deeper than 0 levels") { try compose(["++\(deepest)=[1]"]) }
    }

    func testUnknownHugeKeyIsRefusedWithoutSuggestionWork() {
        // Just under the length limit, unknown: the suggestion search must not cost length × tree.
        let key = String(repeating: "b", count: 4_000)
        assertRefused(.unknownKey, "unknown config key") { try compose(["\(key)=1"]) }
    }

    func testUnterminatedMappingIsAnErrorNotACrash() {
        for value in ["{", "{a: 1,", "{a: 1, ", "[1,", "{'a'"] {
            assertRefused(.invalidOverride, "invalid override") { try compose(["++foo=\(value)"]) }
        }
    }

    // MARK: YAML files

    func testYAMLAliasBombIsRefused() throws {
        // Ten levels of ten aliases: 10^10 nodes once expanded.
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...10 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        try writeConfig(lines.joined(separator: "\n"))
        assertRefused(.invalidYAML, "expands to more than 1000000 nodes") { try compose() }
        // Near the limit: a0…a4 hold 11 + 111 + … + 111,111 = 123,455 nodes, and seven more
        // copies of a4 make 901,234 in all (root included), which parse; nine copies do not.
        var near = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...4 { near.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        func copies(_ n: Int) -> String { (near + ["b: [" + Array(repeating: "*a4", count: n).joined(separator: ", ") + "]"]).joined(separator: "\n") }
        let parsed = try ConfigYAML.parse(copies(7))
        XCTAssertEqual(parsed["b.6.9.9.9.9.9"], "x")
        assertRefused(.invalidYAML, "expands to more than 1000000 nodes") { try ConfigYAML.parse(copies(9)) }
    }

    func testDeeplyNestedYAMLIsRefused() throws {
        for text in ["a: " + nested("[", "", "]", 20_000),
                     "a:\n" + String(repeating: "- ", count: 50_000) + "x\n",
                     (0..<3_000).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined()] {
            try writeConfig(text)
            assertRefused(.invalidYAML, "nest deeper than 100 levels") { try compose() }
        }
        // An alias may not carry a deep anchor deeper than the limit either.
        try writeConfig("a: &a " + nested("[", "", "]", 60) + "\nb: " + nested("[", "*a", "]", 60) + "\n")
        assertRefused(.invalidYAML, "nest deeper than 100 levels") { try compose() }
        // 100 levels: the root mapping and 99 lists.
        try writeConfig("a: " + nested("[", "1", "]", 99) + "\n")
        XCTAssertEqual(try compose()["a" + String(repeating: "[0]", count: 98)], .sequence([1]))
    }

    func testLongInterpolationChainIsRefused() throws {
        func chain(_ n: Int) -> String { (0..<n).map { "k\($0): ${k\($0 + 1)}\n" }.joined() + "k\(n): 1\n" }
        try writeConfig(chain(20_000))
        assertRefused(.interpolation, "nested keys and interpolations") { try compose() }
        try writeConfig(chain(300))
        XCTAssertEqual(try compose()["k0"], 1)
    }

    func testHugePackageHeaderIsRefused() throws {
        try writeConfig("# @package " + Array(repeating: "a", count: 65_000).joined(separator: ".") + "\nx: 1\n")
        assertRefused(.defaultsList, "65000 parts") { try compose() }
    }

    // MARK: Through the binary

    func testConfigCommandRefusesHostileInputWithOneLine() throws {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...10 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        try writeConfig(lines.joined(separator: "\n"))
        let runs = [["config", "--config-dir", root.path],
                    ["config", "++foo=" + nested("[", "", "]", 20_000)],
                    ["config", "++" + Array(repeating: "a", count: 65_000).joined(separator: ".") + "=1"]]
        for arguments in runs {
            let start = Date()
            let result = try NanoWMExecutable.run(arguments)
            XCTAssertEqual(result.status, 1, result.error)
            XCTAssertEqual(result.output, "")
            XCTAssertEqual(result.error.split(separator: "\n").count, 1, result.error)
            XCTAssertTrue(result.error.hasPrefix("Error: invalid"), result.error)
            XCTAssertLessThan(Date().timeIntervalSince(start), 20, "hang guard")
        }
    }
}
