import Foundation
import PythonCompatible

/// One node of a configuration tree: a scalar, a sequence or an ordered mapping, as read from
/// YAML (OmegaConf's typing: `1e-4` is a float, `true`/`False` are booleans, `null`/`~` is null).
///
/// Paths are dotted (`experiment.training.optimizer.lr`); a sequence element is addressed by
/// its index (`experiment.tasks.0` or `experiment.tasks[0]`).
///
///     let cfg = try ConfigComposer.locate().compose(overrides: ["model=nanowm_s2"])
///     let lr = try cfg.double("experiment.training.optimizer.lr")   // throws with a suggestion
///     let frames = cfg["model.num_frames"]?.int                      // optional access
public enum ConfigNode: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case sequence([ConfigNode])
    case mapping(ConfigMapping)

    /// An empty mapping.
    public static var emptyMapping: ConfigNode { .mapping(ConfigMapping()) }

    // MARK: Typed views (nil when the node has another type)

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// An int, or a float with an integral value.
    public var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int(d)
        default: return nil
        }
    }
    /// A float or an int.
    public var double: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var array: [ConfigNode]? { if case .sequence(let a) = self { return a } else { return nil } }
    public var mapping: ConfigMapping? { if case .mapping(let m) = self { return m } else { return nil } }
    /// The keys of a mapping in order (empty for other nodes).
    public var keys: [String] { mapping?.keys ?? [] }
    public var isScalar: Bool {
        switch self {
        case .sequence, .mapping: return false
        default: return true
        }
    }

    /// The node's type in words, for messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "string"
        case .sequence: return "list"
        case .mapping: return "mapping"
        }
    }

    /// Plain Swift values (`[String: Any]` loses the key order; use for JSON-like hand-offs).
    public var anyValue: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .sequence(let a): return a.map(\.anyValue)
        case .mapping(let m): return Dictionary(uniqueKeysWithValues: m.map { ($0.key, $0.value.anyValue) })
        }
    }

    /// The node as JSON (mappings keep their order).
    public var jsonValue: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .sequence(let items): return .array(items.map(\.jsonValue))
        case .mapping(let m): return .object(m.map { ($0.key, $0.value.jsonValue) })
        }
    }

    /// A scalar as text, the way an interpolation inside a longer string renders it
    /// (Python's `str`: `True`, `None`, `0.0001`, `1e-05`).
    public var interpolationText: String {
        switch self {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return PythonJSON.float(d)
        case .string(let s): return s
        case .sequence, .mapping: return ConfigYAML.flowText(self)
        }
    }

    // MARK: Paths

    /// The node at a dotted path, or nil. Setting nil removes the entry; setting a value
    /// creates intermediate mappings as needed.
    public subscript(path: String) -> ConfigNode? {
        get {
            guard let components = try? ConfigPath.parse(path) else { return nil }
            return components.isEmpty ? self : node(at: components)
        }
        set {
            guard let components = try? ConfigPath.parse(path), !components.isEmpty else {
                if let newValue { self = newValue }
                return
            }
            if let newValue { try? set(newValue, at: components, create: true) } else { _ = try? remove(at: components) }
        }
    }

    /// Whether a node exists at the path (a null value exists).
    public func contains(_ path: String) -> Bool { self[path] != nil }

    func node(at components: [String]) -> ConfigNode? {
        var current = self
        for key in components {
            switch current {
            case .mapping(let m):
                guard let next = m[key] else { return nil }
                current = next
            case .sequence(let a):
                guard let i = Int(key), a.indices.contains(i) else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }

    /// Replaces (or with `create`, adds) the node at a path. Throws a one-line error naming the
    /// path when an intermediate node is missing or not a container.
    mutating func set(_ value: ConfigNode, at components: [String], create: Bool) throws {
        guard let key = components.first else { self = value; return }
        let rest = Array(components.dropFirst())
        switch self {
        case .mapping(var m):
            if var child = m[key] {
                if rest.isEmpty { child = value } else { try child.set(value, at: rest, create: create) }
                m[key] = child
            } else {
                guard create else { throw ConfigError(.unknownKey, "unknown config key '\(key)'") }
                var child = ConfigNode.emptyMapping
                try child.set(value, at: rest, create: create)
                m[key] = child
            }
            self = .mapping(m)
        case .sequence(var a):
            guard let i = Int(key), a.indices.contains(i) else {
                throw ConfigError(.unknownKey, "index '\(key)' is out of range for a list of \(a.count)")
            }
            try a[i].set(value, at: rest, create: create)
            self = .sequence(a)
        case .null where create:
            self = .emptyMapping
            try set(value, at: components, create: create)
        default:
            throw ConfigError(.typeMismatch, "cannot set '\(key)' inside a \(typeName) value")
        }
    }

    @discardableResult
    mutating func remove(at components: [String]) throws -> ConfigNode {
        guard let key = components.first else { throw ConfigError(.unknownKey, "cannot remove the root") }
        let rest = Array(components.dropFirst())
        switch self {
        case .mapping(var m):
            guard var child = m[key] else { throw ConfigError(.unknownKey, "unknown config key '\(key)'") }
            let removed: ConfigNode
            if rest.isEmpty {
                removed = child
                m.removeValue(forKey: key)
            } else {
                removed = try child.remove(at: rest)
                m[key] = child
            }
            self = .mapping(m)
            return removed
        case .sequence(var a):
            guard let i = Int(key), a.indices.contains(i) else {
                throw ConfigError(.unknownKey, "index '\(key)' is out of range for a list of \(a.count)")
            }
            let removed: ConfigNode
            if rest.isEmpty { removed = a.remove(at: i) } else { removed = try a[i].remove(at: rest) }
            self = .sequence(a)
            return removed
        default:
            throw ConfigError(.unknownKey, "unknown config key '\(key)'")
        }
    }

    /// Every path in the tree (mappings, sequences and leaves), depth first in key order.
    public var allPaths: [String] {
        var out: [String] = []
        func walk(_ node: ConfigNode, _ prefix: String) {
            switch node {
            case .mapping(let m):
                for (k, v) in m {
                    let p = prefix.isEmpty ? k : prefix + "." + k
                    out.append(p)
                    walk(v, p)
                }
            case .sequence(let a):
                for (i, v) in a.enumerated() {
                    let p = prefix.isEmpty ? String(i) : prefix + "." + String(i)
                    out.append(p)
                    walk(v, p)
                }
            default: break
            }
        }
        walk(self, "")
        return out
    }

    /// Leaf paths only (scalars, empty containers).
    public var leafPaths: [String] {
        allPaths.filter { p in
            guard let n = self[p] else { return false }
            switch n {
            case .mapping(let m): return m.isEmpty
            case .sequence(let a): return a.isEmpty
            default: return true
            }
        }
    }

    // MARK: Throwing accessors with helpful errors

    /// The node at a path; a missing path throws `unknown config key 'a.b'; did you mean 'a.c'?`.
    public func value(_ path: String) throws -> ConfigNode {
        let components = try ConfigPath.parse(path)
        if let node = node(at: components) { return node }
        throw ConfigError.unknownKey(path, in: self)
    }

    public func int(_ path: String) throws -> Int {
        let n = try value(path)
        guard let v = n.int else { throw ConfigError.wrongType(path, expected: "an int", got: n) }
        return v
    }

    public func double(_ path: String) throws -> Double {
        let n = try value(path)
        guard let v = n.double else { throw ConfigError.wrongType(path, expected: "a number", got: n) }
        return v
    }

    public func string(_ path: String) throws -> String {
        let n = try value(path)
        guard let v = n.string else { throw ConfigError.wrongType(path, expected: "a string", got: n) }
        return v
    }

    public func bool(_ path: String) throws -> Bool {
        let n = try value(path)
        guard let v = n.bool else { throw ConfigError.wrongType(path, expected: "a bool", got: n) }
        return v
    }

    /// nil when the key holds null; throws when it is missing or of another type.
    public func optionalInt(_ path: String) throws -> Int? {
        let n = try value(path)
        if n.isNull { return nil }
        guard let v = n.int else { throw ConfigError.wrongType(path, expected: "an int or null", got: n) }
        return v
    }

    public func optionalDouble(_ path: String) throws -> Double? {
        let n = try value(path)
        if n.isNull { return nil }
        guard let v = n.double else { throw ConfigError.wrongType(path, expected: "a number or null", got: n) }
        return v
    }

    public func optionalString(_ path: String) throws -> String? {
        let n = try value(path)
        if n.isNull { return nil }
        guard let v = n.string else { throw ConfigError.wrongType(path, expected: "a string or null", got: n) }
        return v
    }

    public func optionalBool(_ path: String) throws -> Bool? {
        let n = try value(path)
        if n.isNull { return nil }
        guard let v = n.bool else { throw ConfigError.wrongType(path, expected: "a bool or null", got: n) }
        return v
    }

    public func strings(_ path: String) throws -> [String] {
        let n = try value(path)
        guard let a = n.array else { throw ConfigError.wrongType(path, expected: "a list of strings", got: n) }
        return try a.enumerated().map { i, e in
            guard let s = e.string else { throw ConfigError.wrongType("\(path).\(i)", expected: "a string", got: e) }
            return s
        }
    }

    // MARK: Convenience

    /// `read(key)` when the key exists, else nil: upstream's `cfg.get(key)`, where an absent key
    /// reads as null (a present key of the wrong type is still an error).
    public func ifPresent<T>(_ key: String, _ read: (String) throws -> T?) rethrows -> T? {
        contains(key) ? try read(key) : nil
    }

    /// This tree without the `hydra` section: what the reference's jobs see as their config.
    public var removingHydra: ConfigNode {
        var copy = self
        if case .mapping(var m) = copy {
            m.removeValue(forKey: "hydra")
            copy = .mapping(m)
        }
        return copy
    }

    /// OmegaConf's merge: mappings merge key by key (in order, new keys appended); anything
    /// else is replaced by `other`.
    public func merging(_ other: ConfigNode) -> ConfigNode {
        guard case .mapping(var base) = self, case .mapping(let top) = other else { return other }
        for (key, value) in top {
            if let existing = base[key] { base[key] = existing.merging(value) } else { base[key] = value }
        }
        return .mapping(base)
    }
}

extension ConfigNode: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: ConfigNode...) { self = .sequence(elements) }
    public init(dictionaryLiteral elements: (String, ConfigNode)...) {
        var m = ConfigMapping()
        for (k, v) in elements { m[k] = v }
        self = .mapping(m)
    }
}

extension ConfigNode: CustomStringConvertible {
    /// The node as YAML.
    public var description: String { yaml }
}

/// A mapping that keeps its keys in insertion order (YAML file order, then overrides).
public struct ConfigMapping: Equatable, Sendable, Sequence {
    public private(set) var keys: [String] = []
    private var storage: [String: ConfigNode] = [:]

    public init() {}

    public init(_ pairs: [(String, ConfigNode)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public subscript(key: String) -> ConfigNode? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> ConfigNode? {
        guard let old = storage.removeValue(forKey: key) else { return nil }
        keys.removeAll { $0 == key }
        return old
    }

    public func makeIterator() -> AnyIterator<(key: String, value: ConfigNode)> {
        var i = 0
        return AnyIterator {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (keys[i], storage[keys[i]]!)
        }
    }
}

/// Dotted paths: `a.b.0`, `a.b[0]`.
enum ConfigPath {
    static func parse(_ path: String) throws -> [String] {
        if path.isEmpty { return [] }
        var components: [String] = []
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            // a[0][1] → a, 0, 1. Substrings and appending keep this linear in the path's length.
            var text = part
            var indices: [String] = []
            while text.hasSuffix("]"), let open = text.lastIndex(of: "[") {
                indices.append(String(text[text.index(after: open)..<text.index(before: text.endIndex)]))
                text = text[..<open]
            }
            if text.isEmpty && indices.isEmpty {
                throw ConfigError(.invalidOverride, "invalid config path '\(ConfigLimits.excerpt(path))' (empty component)")
            }
            if !text.isEmpty { components.append(String(text)) }
            components += indices.reversed()
        }
        return components
    }

    static func join(_ components: [String]) -> String { components.joined(separator: ".") }
}
