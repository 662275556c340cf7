import Foundation
import Yams

/// Hostile YAML (deep nesting, alias bombs) refused with one line, through Yams's public API.
///
/// Yams composes recursively, a few stack frames per level, so deep nesting would exhaust an
/// ordinary stack: composing runs on a thread whose stack fits the deepest nesting the text
/// can hold. The composed tree shares an anchor's node with its aliases, so it is small; only
/// expanding it (ten levels of ten aliases stand for 10^10 nodes) is not. `measure` walks the
/// expanded tree with a node budget and the depth limit before anything converts it, so its
/// time and recursion stay bounded.
enum YAMLShape {
    /// Stack bytes per possible level: twice what one level of Yams's recursion takes in a
    /// debug build (between 1 and 2 KiB, measured on 20,000 nested `[` and 50,000 `- `).
    private static let stackPerLevel = 4096
    private static let minimumStack = 16 << 20

    /// The most levels the text can nest: every level of YAML opens with `[`, `{`, `-`, `?`,
    /// `:` (a compact mapping in a sequence entry) or a new line (a block mapping's value).
    static func possibleLevels(_ text: String) -> Int {
        text.utf8.reduce(1) { count, byte in
            switch byte {
            case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: "\n"):
                return count + 1
            default: return count
            }
        }
    }

    /// `Yams.compose` and `measure` on a stack large enough for the text. A tree that fails
    /// the measure is also released there: freeing it recurses as deep as it nests.
    static func compose(_ text: String, source: String) throws -> Node? {
        let stack = max(minimumStack, possibleLevels(text).multipliedReportingOverflow(by: stackPerLevel).partialValue)
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome.result = Result {
                let root = try Yams.compose(yaml: text)
                if let root { try measure(root, source: source) }
                return root
            }
            done.signal()
        }
        thread.stackSize = stack
        thread.start()
        done.wait()
        return try outcome.result.get()
    }

    /// The composing thread's result, read after it signalled.
    private final class Outcome: @unchecked Sendable {
        var result: Result<Node?, Error> = .success(nil)
    }

    /// Throws unless the tree, aliases expanded, stays within `ConfigLimits.maxDepth` levels of
    /// lists and mappings and `ConfigLimits.maxYAMLNodes` nodes.
    private static func measure(_ root: Node, source: String) throws {
        var nodes = 0
        try visit(root, depth: 0, nodes: &nodes, source: source)
    }

    private static func visit(_ node: Node, depth: Int, nodes: inout Int, source: String) throws {
        nodes += 1
        guard nodes <= ConfigLimits.maxYAMLNodes else {
            throw ConfigError(.invalidYAML,
                              "invalid YAML in \(source): it expands to more than \(ConfigLimits.maxYAMLNodes) nodes by line \(line(node)) (aliases repeat their anchor's content); write fewer aliases or a smaller file")
        }
        let children: [Node]
        switch node {
        case .scalar: return
        case .sequence(let sequence): children = Array(sequence)
        case .mapping(let mapping): children = mapping.flatMap { [$0.key, $0.value] }
        }
        guard depth + 1 <= ConfigLimits.maxDepth else {
            throw ConfigError(.invalidYAML,
                              "invalid YAML in \(source): lists and mappings nest deeper than \(ConfigLimits.maxDepth) levels at line \(line(node)); flatten the structure")
        }
        for child in children { try visit(child, depth: depth + 1, nodes: &nodes, source: source) }
    }

    private static func line(_ node: Node) -> Int { node.mark?.line ?? 0 }
}
