import Foundation
import PythonCompatible
import SwiftTorch
import Yams

/// Reading and writing configuration YAML. Parsing goes through Yams; plain scalars are typed
/// the way OmegaConf's loader types them (YAML 1.1 booleans and nulls, `1e-4` is a float),
/// quoted scalars stay strings. Writing is block style with keys in their stored order and
/// strings quoted whenever they would otherwise read back as another type.
public enum ConfigYAML {
    /// Parses one YAML document. `source` names the file in error messages.
    public static func parse(_ text: String, source: String = "<string>") throws -> ConfigNode {
        let root: Node?
        do {
            root = try YAMLShape.compose(text, source: source)
        } catch let error as YamlError {
            throw ConfigError(.invalidYAML, "invalid YAML in \(source): \(oneLine(error))")
        }
        guard let root else { return .emptyMapping }
        return try convert(root, source: source, path: [])
    }

    /// Reads a YAML file into a tree.
    public static func load(_ url: URL) throws -> ConfigNode {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError(.missingConfig, "cannot read config file \(url.path): \(error.localizedDescription)")
        }
        return try parse(text, source: url.path)
    }

    private static func oneLine(_ error: YamlError) -> String {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }

    private static func convert(_ node: Node, source: String, path: [String]) throws -> ConfigNode {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain && scalar.style != .any { return .string(scalar.string) }
            // An explicit `!!str` keeps the text; every other plain scalar is typed.
            if scalar.tag.description == Tag.Name.str.rawValue { return .string(scalar.string) }
            return typedScalar(scalar.string)
        case .sequence(let sequence):
            return .sequence(try sequence.enumerated().map { try convert($1, source: source, path: path + [String($0)]) })
        case .mapping(let mapping):
            var result = ConfigMapping()
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw ConfigError(.invalidYAML, "invalid YAML in \(source): non-scalar key under '\(ConfigPath.join(path))'")
                }
                let key = keyScalar.string
                if result[key] != nil {
                    let at = ConfigPath.join(path + [key])
                    throw ConfigError(.invalidYAML, "invalid YAML in \(source): duplicate key '\(at)'")
                }
                result[key] = try convert(valueNode, source: source, path: path + [key])
            }
            return .mapping(result)
        }
    }

    // MARK: Scalar typing (OmegaConf's loader: PyYAML's safe resolvers with a wider float)

    private static let nullWords: Set<String> = ["~", "null", "Null", "NULL", ""]
    private static let trueWords: Set<String> = ["yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]
    private static let falseWords: Set<String> = ["no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]

    /// The typed value of a plain (unquoted) YAML scalar.
    public static func typedScalar(_ text: String) -> ConfigNode {
        if nullWords.contains(text) { return .null }
        if trueWords.contains(text) { return .bool(true) }
        if falseWords.contains(text) { return .bool(false) }
        if let i = yamlInt(text) { return .int(i) }
        if let d = yamlFloat(text) { return .double(d) }
        return .string(text)
    }

    static func yamlInt(_ text: String) -> Int? {
        var body = Substring(text)
        var negative = false
        if let first = body.first, first == "+" || first == "-" {
            negative = first == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }
        let digits = body.replacingOccurrences(of: "_", with: "")
        var value: Int?
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else if digits.hasPrefix("0b") || digits.hasPrefix("0B") {
            value = Int(digits.dropFirst(2), radix: 2)
        } else if digits.count > 1 && digits.hasPrefix("0") {
            value = Int(digits.dropFirst(), radix: 8)
        } else if digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            value = Int(digits)
        }
        guard let value else { return nil }
        return negative ? -value : value
    }

    static func yamlFloat(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // [-+]?digits.digits?(e[-+]?digits)? | [-+]?digits e[-+]?digits | .digits(e[-+]digits)?
        let chars = Array(text)
        var i = 0
        if i < chars.count, chars[i] == "+" || chars[i] == "-" { i += 1 }
        var intDigits = 0, fracDigits = 0
        var sawDot = false, sawExp = false
        while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "_" { i += 1; intDigits += 1 }
        if i < chars.count, chars[i] == "." {
            sawDot = true
            i += 1
            while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "_" { i += 1; fracDigits += 1 }
        }
        if intDigits == 0 && fracDigits == 0 { return nil }
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            sawExp = true
            i += 1
            if i < chars.count, chars[i] == "+" || chars[i] == "-" { i += 1 }
            var expDigits = 0
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1; expDigits += 1 }
            if expDigits == 0 { return nil }
        }
        guard i == chars.count, sawDot || sawExp else { return nil }
        if !sawDot && intDigits == 0 { return nil }
        return Double(text.replacingOccurrences(of: "_", with: ""))
    }

    // MARK: Writing

    /// Block-style YAML of a tree, keys in stored order, written by Yams (libyaml's emitter):
    /// this file only chooses each scalar's style, so that it reads back as the same type.
    public static func emit(_ node: ConfigNode) -> String {
        do {
            return try Yams.serialize(node: yamsNode(node), width: -1, allowUnicode: true)
        } catch {
            // The emitter fails only on an ill-formed event stream, which a tree cannot produce.
            preconditionFailure("libyaml refused a configuration tree: \(error)")
        }
    }

    /// The tree as Yams nodes: non-empty containers in block style, empty ones as `[]`/`{}`,
    /// scalars plain unless the text would read back as another type.
    private static func yamsNode(_ node: ConfigNode) -> Node {
        switch node {
        case .mapping(let m):
            let pairs = m.map { (scalarNode(.string($0.key)), yamsNode($0.value)) }
            return .mapping(Node.Mapping(pairs, .implicit, m.isEmpty ? .flow : .block))
        case .sequence(let a):
            return .sequence(Node.Sequence(a.map(yamsNode), .implicit, a.isEmpty ? .flow : .block))
        default:
            return scalarNode(node)
        }
    }

    private static func scalarNode(_ node: ConfigNode) -> Node {
        guard case .string(let s) = node else { return .scalar(Node.Scalar(scalarText(node), .implicit, .plain)) }
        let style: Node.Scalar.Style = hasControlCharacters(s) ? .doubleQuoted : needsQuotes(s) ? .singleQuoted : .plain
        return .scalar(Node.Scalar(s, .implicit, style))
    }

    /// A scalar (or empty container) as it appears after `key: `.
    static func scalarText(_ node: ConfigNode) -> String {
        switch node {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return floatText(d)
        case .string(let s): return quotedIfNeeded(s)
        case .sequence(let a): return a.isEmpty ? "[]" : flowText(node)
        case .mapping(let m): return m.isEmpty ? "{}" : flowText(node)
        }
    }

    static func floatText(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d > 0 ? ".inf" : "-.inf" }
        return PythonJSON.float(d)
    }

    /// One-line flow form (`[1, 2]`, `{a: 1}`), used in messages.
    public static func flowText(_ node: ConfigNode) -> String {
        switch node {
        case .sequence(let a): return "[" + a.map(flowText).joined(separator: ", ") + "]"
        case .mapping(let m): return "{" + m.map { "\(keyText($0.key)): \(flowText($0.value))" }.joined(separator: ", ") + "}"
        case .string(let s):
            let q = quotedIfNeeded(s)
            // Inside flow collections commas and brackets also need quoting.
            if q == s, s.contains(where: { ",[]{}".contains($0) }) { return singleQuoted(s) }
            return q
        default: return scalarText(node)
        }
    }

    private static func keyText(_ key: String) -> String { quotedIfNeeded(key) }

    static func quotedIfNeeded(_ s: String) -> String {
        if hasControlCharacters(s) { return doubleQuoted(s) }
        if needsQuotes(s) { return singleQuoted(s) }
        return s
    }

    private static func hasControlCharacters(_ s: String) -> Bool {
        s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }

    private static func needsQuotes(_ s: String) -> Bool {
        guard let first = s.first, let last = s.last else { return true }
        if case .string = typedScalar(s) {} else { return true }
        if first == " " || last == " " { return true }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
            // "-foo" and ":foo" are fine in YAML, but keep it simple and safe: quote.
            return true
        }
        if s.contains(": ") || s.contains(" #") || s.hasSuffix(":") { return true }
        if s == "<<" { return true }
        return false
    }

    private static func singleQuoted(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
    }

    private static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += String(format: "\\x%02X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension ConfigNode {
    /// The tree as block-style YAML with stable key order.
    public var yaml: String { ConfigYAML.emit(self) }

    /// Parses YAML text.
    public init(yaml text: String) throws { self = try ConfigYAML.parse(text) }

    /// Reads a YAML file (e.g. a run folder's `config.yaml`).
    public init(contentsOf url: URL) throws { self = try ConfigYAML.load(url) }

    /// Writes the tree as YAML, creating the parent folder if needed.
    public func save(to url: URL) throws {
        try Folder.create(url.deletingLastPathComponent())
        // Not String.write(atomically:): Foundation leaves an empty /tmp/TemporaryDirectory.* per call.
        try AtomicFile.write(to: url.path) { Data(yaml.utf8) }
    }
}
