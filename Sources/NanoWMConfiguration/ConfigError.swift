import Foundation

/// A configuration problem, always one line that names what went wrong and where, with the
/// closest valid names when there are any:
///
///     unknown config key 'experiment.trainig.max_steps'; did you mean 'experiment.training.max_steps'?
///     unknown option 'model=nanowm_b3' (available: nanowm_b1_semantic, nanowm_b2, …); did you mean 'nanowm_b2'?
public struct ConfigError: Error, Equatable, CustomStringConvertible, LocalizedError, Sendable {
    public enum Kind: String, Sendable {
        case unknownKey, unknownOption, unknownGroup, missingConfig, invalidOverride, invalidYAML
        case interpolation, interpolationCycle, missingEnvironmentVariable, typeMismatch, keyExists
        case configRootNotFound, defaultsList
        /// A value out of range, or values that do not fit together (model and codec shapes).
        case invalidValue
        /// Valid upstream, but not implemented in this build (a task, a key's value).
        case unsupported
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }

    static func unknownKey(_ path: String, in config: ConfigNode, context: String = "") -> ConfigError {
        var text = "unknown config key '\(ConfigLimits.excerpt(path))'\(context)"
        // No suggestions for an over-long (hostile) path: they would cost its length times the tree's.
        let hints = path.utf8.count <= ConfigLimits.maxKeyLength ? Suggestions.paths(near: path, in: config) : []
        if !hints.isEmpty { text += "; did you mean \(Suggestions.list(hints))?" }
        return ConfigError(.unknownKey, text)
    }

    static func wrongType(_ path: String, expected: String, got node: ConfigNode) -> ConfigError {
        let shown = node.isScalar ? " (\(ConfigYAML.flowText(node)))" : ""
        return ConfigError(.typeMismatch, "config key '\(path)' should be \(expected), but it is a \(node.typeName)\(shown)")
    }
}

/// Closest-name suggestions by edit distance.
enum Suggestions {
    /// Levenshtein distance over characters.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The candidates within a distance that scales with the name's length, best first (only
    /// those about as close as the best one).
    static func closest(to name: String, among candidates: [String], limit: Int = 3) -> [String] {
        let threshold = max(2, name.count / 3)
        let lowered = name.lowercased()
        var scored: [(name: String, distance: Int)] = []
        // Lengths that differ by more than the threshold cannot be within it: skipping them keeps
        // a huge hostile name from costing length × length work per candidate.
        for candidate in candidates where candidate != name && abs(candidate.count - name.count) <= threshold {
            let d = distance(lowered, candidate.lowercased())
            if d <= threshold { scored.append((candidate, d)) }
        }
        scored.sort { (a: (name: String, distance: Int), b: (name: String, distance: Int)) -> Bool in
            a.distance != b.distance ? a.distance < b.distance : a.name < b.name
        }
        guard let best = scored.first?.distance else { return [] }
        return scored.filter { $0.distance <= best + 1 }.prefix(limit).map { $0.name }
    }

    /// For a missing dotted path: paths that end with the same key (`training.lr` →
    /// `experiment.training.optimizer.lr`) and paths that are close as a whole; never the
    /// missing path's own ancestors.
    static func paths(near path: String, in config: ConfigNode) -> [String] {
        let all = config.allPaths.filter { !path.hasPrefix($0 + ".") }
        var out: [String] = []
        if let last = path.split(separator: ".").last.map(String.init) {
            let sameLeaf = all.filter { $0 == last || $0.hasSuffix("." + last) }
            if !sameLeaf.isEmpty && sameLeaf.count <= 3 {
                out = sameLeaf.sorted { distance(path, $0) < distance(path, $1) }
            }
        }
        for candidate in closest(to: path, among: all) where !out.contains(candidate) { out.append(candidate) }
        return Array(out.prefix(3))
    }

    /// `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`.
    static func list(_ names: [String]) -> String {
        let quoted = names.map { "'\($0)'" }
        if quoted.count <= 1 { return quoted.first ?? "" }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }
}
