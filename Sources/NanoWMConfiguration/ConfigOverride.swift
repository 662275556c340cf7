import Foundation

/// One command-line override, in Hydra's syntax:
///
/// | text | meaning |
/// |---|---|
/// | `model=nanowm_s2` | choose another option of a config group |
/// | `dataset=dino_wm/pusht` | options may sit in sub-folders of a group |
/// | `experiment.training.batch_size=4` | change an existing key (error if it does not exist) |
/// | `+experiment.training.note=hello` | add a key that does not exist yet (or `+group=option`) |
/// | `++wandb.enabled=false` | set a key whether or not it exists |
/// | `~logger` | delete a key (or drop a group from the defaults list) |
///
/// Values are typed like Hydra's grammar: `42`, `1e-4`, `true`, `null`, `[1,2]`, `{a: 1}`,
/// `'quoted text'`; `${a.b}` stays an interpolation; anything else is a string.
public struct ConfigOverride: Equatable, Sendable {
    public enum Action: String, Sendable {
        /// `key=value`
        case change
        /// `+key=value`
        case add
        /// `++key=value`
        case forceAdd
        /// `~key` or `~key=value`
        case delete
    }

    public var action: Action
    /// The key as written, without prefix and package (`experiment.training.lr`, `dataset`).
    public var key: String
    /// `group@package=option`: the package part.
    public var package: String?
    /// nil only for `~key`.
    public var value: ConfigNode?
    /// The value's text exactly as written (for group options and messages).
    public var valueText: String?
    /// The override as given on the command line.
    public var text: String
    /// `text` for messages: cut short when it is long (a hostile override may be megabytes).
    var shown: String { ConfigLimits.excerpt(text) }

    public init(parsing text: String) throws {
        self.text = text
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("++") {
            action = .forceAdd
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix("+") {
            action = .add
            rest = rest.dropFirst()
        } else if rest.hasPrefix("~") {
            action = .delete
            rest = rest.dropFirst()
        } else {
            action = .change
        }
        let keyPart: Substring
        var valuePart: String?
        if let eq = rest.firstIndex(of: "=") {
            keyPart = rest[..<eq]
            valuePart = String(rest[rest.index(after: eq)...])
        } else {
            guard action == .delete else {
                throw ConfigError(.invalidOverride,
                                  "invalid override '\(ConfigLimits.excerpt(text))': expected key=value (or ~key to delete); see `nanowm config --help`")
            }
            keyPart = rest
        }
        var k = keyPart.trimmingCharacters(in: .whitespaces)
        if let at = k.firstIndex(of: "@") {
            package = String(k[k.index(after: at)...])
            k = String(k[..<at])
        } else {
            package = nil
        }
        let keyDepth = try Self.checkedKeyDepth(k, override: text)
        key = k
        valueText = valuePart?.trimmingCharacters(in: .whitespaces)
        value = try valuePart.map {
            try OverrideValueParser.parse($0, override: text, depthLimit: ConfigLimits.maxDepth - keyDepth)
        }
    }

    /// The number of levels a key's parts add to the tree (`a.b[0]` → 3), after checking that
    /// the key is well formed and within the limits (a 65,000-part key would otherwise cost
    /// quadratic time and deep recursion further on).
    private static func checkedKeyDepth(_ k: String, override text: String) throws -> Int {
        let shown = ConfigLimits.excerpt(text)
        guard k.utf8.count <= ConfigLimits.maxKeyLength else {
            throw ConfigError(.invalidOverride,
                              "invalid override '\(shown)': the key is \(k.utf8.count) bytes long, over the limit of \(ConfigLimits.maxKeyLength); use a shorter key")
        }
        guard !k.isEmpty, k.allSatisfy({ $0.isLetter || $0.isNumber || "_-./[]".contains($0) }) else {
            throw ConfigError(.invalidOverride, "invalid override '\(shown)': bad key '\(ConfigLimits.excerpt(k))'")
        }
        let depth = 1 + k.reduce(0) { $0 + ($1 == "." || $1 == "[" ? 1 : 0) }
        guard depth <= ConfigLimits.maxDepth else {
            throw ConfigError(.invalidOverride,
                              "invalid override '\(shown)': the key has \(depth) parts, over the nesting limit of \(ConfigLimits.maxDepth) levels; use a shorter key")
        }
        return depth
    }
}

/// Hydra's override value grammar (the parts that make sense without sweeps).
enum OverrideValueParser {
    /// `depthLimit`: how many levels of lists and mappings the value may nest (what the
    /// key's parts leave of `ConfigLimits.maxDepth`).
    static func parse(_ text: String, override: String, depthLimit: Int = ConfigLimits.maxDepth) throws -> ConfigNode {
        var state = State(chars: Array(text), override: override, depthLimit: depthLimit)
        state.skipSpaces()
        if state.atEnd { return .string("") }  // `key=` is the empty string
        let value = try state.element(topLevel: true)
        state.skipSpaces()
        if !state.atEnd {
            if state.chars[state.i] == "," {
                throw ConfigError(.invalidOverride,
                                  "invalid override '\(ConfigLimits.excerpt(override))': a comma makes a sweep, which `nanowm` does not run; quote the value ('a,b') or write a list ([a,b])")
            }
            throw state.fail("unexpected '\(state.chars[state.i])'")
        }
        return value
    }

    /// An unquoted word: null, bool, int, float or string (Hydra/OmegaConf primitive typing).
    static func primitive(_ word: String) -> ConfigNode {
        let t = word
        if t.contains("${") { return .string(t) }
        switch t.lowercased() {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .double(.infinity)
        case "-inf": return .double(-.infinity)
        case "nan", "+nan", "-nan": return .double(.nan)
        default: break
        }
        let body = t.hasPrefix("+") || t.hasPrefix("-") ? String(t.dropFirst()) : t
        if !body.isEmpty, body.first!.isASCII, body.first!.isNumber,
           body.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "_" }),
           let i = Int(t.replacingOccurrences(of: "_", with: "")) {
            return .int(i)
        }
        if let d = ConfigYAML.yamlFloat(t) { return .double(d) }
        return .string(t)
    }

    struct State {
        let chars: [Character]
        var i = 0
        let override: String
        let depthLimit: Int
        /// Lists and mappings open at `i`; bounded so that deep nesting cannot exhaust the stack.
        var depth = 0

        init(chars: [Character], override: String, depthLimit: Int) {
            self.chars = chars
            self.override = override
            self.depthLimit = depthLimit
        }

        var atEnd: Bool { i >= chars.count }

        func fail(_ why: String) -> ConfigError {
            ConfigError(.invalidOverride, "invalid override '\(ConfigLimits.excerpt(override))': \(why)")
        }

        /// Enters one list or mapping level.
        mutating func descend() throws {
            depth += 1
            guard depth <= depthLimit else {
                throw fail("the value nests deeper than \(depthLimit) levels (the limit is \(ConfigLimits.maxDepth) levels, the key's parts included); write a shallower value")
            }
        }

        mutating func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }

        mutating func element(topLevel: Bool) throws -> ConfigNode {
            skipSpaces()
            guard i < chars.count else { throw fail("missing value") }
            switch chars[i] {
            case "[": return try list()
            case "{": return try dict()
            case "'", "\"": return .string(try quoted())
            default: return OverrideValueParser.primitive(try word(stops: topLevel ? [","] : [",", "]", "}"]))
            }
        }

        mutating func quoted() throws -> String {
            let quote = chars[i]
            i += 1
            var out = ""
            while i < chars.count, chars[i] != quote {
                if chars[i] == "\\", i + 1 < chars.count, chars[i + 1] == quote || chars[i + 1] == "\\" {
                    out.append(chars[i + 1])
                    i += 2
                    continue
                }
                out.append(chars[i])
                i += 1
            }
            guard i < chars.count else { throw fail("unterminated quote") }
            i += 1
            return out
        }

        /// Text up to an unnested stop character; `${…}` may contain anything; `\x` escapes x.
        mutating func word(stops: Set<Character>) throws -> String {
            var out = ""
            var braces = 0
            while i < chars.count {
                let c = chars[i]
                if braces == 0, stops.contains(c) { break }
                if c == "\\", i + 1 < chars.count {
                    out.append(chars[i + 1])
                    i += 2
                    continue
                }
                if c == "$", i + 1 < chars.count, chars[i + 1] == "{" {
                    braces += 1
                    guard braces <= ConfigLimits.maxInterpolationDepth else {
                        throw fail("'${' nests deeper than \(ConfigLimits.maxInterpolationDepth) levels; write a shallower interpolation")
                    }
                    out += "${"
                    i += 2
                    continue
                }
                if c == "}", braces > 0 { braces -= 1 }
                out.append(c)
                i += 1
            }
            if braces > 0 { throw fail("unterminated '${'") }
            return out.trimmingCharacters(in: .whitespaces)
        }

        mutating func list() throws -> ConfigNode {
            try descend()
            defer { depth -= 1 }
            i += 1
            var items: [ConfigNode] = []
            skipSpaces()
            if i < chars.count, chars[i] == "]" { i += 1; return .sequence([]) }
            while true {
                items.append(try element(topLevel: false))
                skipSpaces()
                guard i < chars.count else { throw fail("missing ']'") }
                if chars[i] == "]" { i += 1; return .sequence(items) }
                guard chars[i] == "," else { throw fail("expected ',' or ']' in a list") }
                i += 1
            }
        }

        mutating func dict() throws -> ConfigNode {
            try descend()
            defer { depth -= 1 }
            i += 1
            var m = ConfigMapping()
            skipSpaces()
            if i < chars.count, chars[i] == "}" { i += 1; return .mapping(m) }
            while true {
                skipSpaces()
                guard i < chars.count else { throw fail("missing '}'") }
                let key = chars[i] == "'" || chars[i] == "\"" ? try quoted() : try word(stops: [":", ",", "}"])
                skipSpaces()
                guard i < chars.count, chars[i] == ":" else { throw fail("expected ':' after '\(key)' in a mapping") }
                i += 1
                m[key] = try element(topLevel: false)
                skipSpaces()
                guard i < chars.count else { throw fail("missing '}'") }
                if chars[i] == "}" { i += 1; return .mapping(m) }
                guard chars[i] == "," else { throw fail("expected ',' or '}' in a mapping") }
                i += 1
            }
        }
    }
}
