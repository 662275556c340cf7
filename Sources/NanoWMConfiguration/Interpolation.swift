import Foundation

/// What interpolations may read besides the tree itself.
public struct ResolveContext: Sendable {
    /// Variables for `${oc.env:NAME,default}`.
    public var environment: [String: String]
    /// The instant `${now:%Y%m%d_%H%M%S}` formats (one per composition, as in Hydra).
    public var now: Date
    /// `${hydra:runtime.output_dir}`; when nil, the tree's `hydra.run.dir` (made absolute).
    public var outputDirectory: String?
    /// `${hydra:runtime.choices.<group>}`.
    public var choices: [String: String]
    /// Base for relative paths (`${hydra:runtime.cwd}`, absolute output dir).
    public var currentDirectory: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, now: Date = Date(),
                outputDirectory: String? = nil, choices: [String: String] = [:],
                currentDirectory: String = FileManager.default.currentDirectoryPath) {
        self.environment = environment
        self.now = now
        self.outputDirectory = outputDirectory
        self.choices = choices
        self.currentDirectory = currentDirectory
    }
}

extension ConfigNode {
    /// The tree with every interpolation replaced by its value (OmegaConf semantics):
    /// `${a.b}` (absolute), `${.sibling}` / `${..uncle}` (relative), `${oc.env:VAR,default}`,
    /// `${oc.select:key,default}`, `${now:strftime-format}`, `${hydra:runtime.output_dir}`.
    /// A string that is exactly one interpolation takes the referenced value's type; otherwise
    /// the pieces are joined as text. `\${` is a literal `${`. Cycles are reported with their path.
    public func resolved(_ context: ResolveContext = ResolveContext()) throws -> ConfigNode {
        try InterpolationResolver(root: self, context: context).resolved([])
    }

    /// Whether any string in the tree still contains an interpolation.
    public var hasInterpolations: Bool {
        switch self {
        case .string(let s): return s.contains("${")
        case .sequence(let a): return a.contains { $0.hasInterpolations }
        case .mapping(let m): return m.contains { $0.value.hasInterpolations }
        default: return false
        }
    }
}

// MARK: Template grammar

indirect enum TemplatePiece: Equatable {
    case text(String)
    /// `${key}`; the key itself may contain nested interpolations.
    case node([TemplatePiece])
    /// `${name:arg,arg}`.
    case resolver(String, [[TemplatePiece]])
}

enum TemplateParser {
    static func parse(_ s: String, at path: String) throws -> [TemplatePiece] {
        var parser = State(chars: Array(s), path: path, source: s)
        let pieces = try parser.pieces(until: [])
        guard parser.i == parser.chars.count else { throw parser.fail("unexpected '\(parser.chars[parser.i])'") }
        return pieces
    }

    struct State {
        let chars: [Character]
        var i = 0
        let path: String
        let source: String
        /// `${` open at `i`; bounded so that deep nesting cannot exhaust the stack.
        var nesting = 0

        init(chars: [Character], path: String, source: String) {
            self.chars = chars
            self.path = path
            self.source = source
        }

        func fail(_ why: String) -> ConfigError {
            ConfigError(.interpolation, "invalid interpolation '\(ConfigLimits.excerpt(source))' at '\(path)': \(why)")
        }

        func peek(_ offset: Int = 0) -> Character? { i + offset < chars.count ? chars[i + offset] : nil }

        /// Text and interpolations up to (not including) an unnested stop character.
        mutating func pieces(until stops: Set<Character>) throws -> [TemplatePiece] {
            var out: [TemplatePiece] = []
            var text = ""
            func flush() { if !text.isEmpty { out.append(.text(text)); text = "" } }
            while let c = peek() {
                if stops.contains(c) { break }
                if c == "\\", peek(1) == "$", peek(2) == "{" {
                    text += "${"
                    i += 3
                } else if c == "$", peek(1) == "{" {
                    flush()
                    i += 2
                    out.append(try interpolation())
                } else if !stops.isEmpty, c == "'" || c == "\"" {
                    // Quoted resolver argument.
                    let quote = c
                    i += 1
                    while let q = peek(), q != quote {
                        if q == "\\", let n = peek(1), n == quote || n == "\\" { text.append(n); i += 2; continue }
                        text.append(q)
                        i += 1
                    }
                    guard peek() == quote else { throw fail("unterminated quote") }
                    i += 1
                    flush()
                    out.append(.text("")) // marks "quoted" so the argument stays a string
                } else {
                    text.append(c)
                    i += 1
                }
            }
            flush()
            return out
        }

        mutating func interpolation() throws -> TemplatePiece {
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= ConfigLimits.maxInterpolationDepth else {
                throw fail("'${' nests deeper than \(ConfigLimits.maxInterpolationDepth) levels; write a shallower interpolation")
            }
            // Resolver name: [A-Za-z_][A-Za-z0-9_.]* followed by ':'.
            var j = i
            while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "." { j += 1 }
            if j > i, j < chars.count, chars[j] == ":", chars[i].isLetter || chars[i] == "_" {
                let name = String(chars[i..<j])
                i = j + 1
                var args: [[TemplatePiece]] = []
                if peek() == "}" { i += 1; return .resolver(name, []) }
                while true {
                    args.append(try pieces(until: [",", "}"]))
                    guard let c = peek() else { throw fail("missing '}'") }
                    i += 1
                    if c == "}" { break }
                }
                return .resolver(name, args)
            }
            let key = try pieces(until: ["}"])
            guard peek() == "}" else { throw fail("missing '}'") }
            i += 1
            if key.isEmpty { throw fail("empty key") }
            return .node(key)
        }
    }
}

// MARK: Resolution

final class InterpolationResolver {
    let root: ConfigNode
    let context: ResolveContext
    private var cache: [String: ConfigNode] = [:]
    private var stack: [String] = []

    static let resolverNames = ["oc.env", "oc.select", "now", "hydra"]

    init(root: ConfigNode, context: ResolveContext) {
        self.root = root
        self.context = context
    }

    /// The fully resolved node at a path.
    func resolved(_ path: [String]) throws -> ConfigNode {
        let key = ConfigPath.join(path)
        if let hit = cache[key] { return hit }
        if let start = stack.firstIndex(of: key) {
            let chain = (stack[start...] + [key]).map { $0.isEmpty ? "<root>" : $0 }
            throw ConfigError(.interpolationCycle, "interpolation cycle: \(chain.joined(separator: " -> "))")
        }
        guard stack.count < ConfigLimits.maxResolveDepth else {
            throw ConfigError(.interpolation,
                              "resolving '\(ConfigLimits.excerpt(key))' needs more than \(ConfigLimits.maxResolveDepth) nested keys and interpolations (a very long chain of interpolations that refer to further interpolations); shorten the chain")
        }
        stack.append(key)
        defer { stack.removeLast() }
        guard let (raw, done) = try locate(path) else { throw ConfigError.unknownKey(key, in: root) }
        let value: ConfigNode
        if done {
            value = raw
        } else {
            switch raw {
            case .string(let s) where s.contains("${"):
                value = try evaluate(s, at: path)
            case .mapping(let m):
                var out = ConfigMapping()
                for (k, _) in m { out[k] = try resolved(path + [k]) }
                value = .mapping(out)
            case .sequence(let a):
                value = .sequence(try a.indices.map { try resolved(path + [String($0)]) })
            default:
                value = raw
            }
        }
        cache[key] = value
        return value
    }

    /// The raw node at a path; an interpolated node on the way is resolved first (then the
    /// result is already final, flagged by the second element).
    private func locate(_ path: [String]) throws -> (ConfigNode, Bool)? {
        var current = root
        var done = false
        for (index, component) in path.enumerated() {
            let child: ConfigNode
            switch current {
            case .mapping(let m):
                guard let c = m[component] else { return nil }
                child = c
            case .sequence(let a):
                guard let n = Int(component), a.indices.contains(n) else { return nil }
                child = a[n]
            default:
                return nil
            }
            current = child
            if !done, index < path.count - 1, case .string(let s) = child, s.contains("${") {
                current = try resolved(Array(path[...index]))
                done = true
            }
        }
        return (current, done)
    }

    private func evaluate(_ s: String, at path: [String]) throws -> ConfigNode {
        let where_ = ConfigPath.join(path)
        let pieces = try TemplateParser.parse(s, at: where_)
        return try value(of: pieces, at: path, source: s)
    }

    /// A template's value: one interpolation keeps its type; anything else is text.
    private func value(of pieces: [TemplatePiece], at path: [String], source: String) throws -> ConfigNode {
        let meaningful = pieces.filter { $0 != .text("") }
        if meaningful.count == 1, pieces.count == 1 {
            switch meaningful[0] {
            case .node(let key): return try lookup(key, at: path, source: source)
            case .resolver(let name, let args): return try call(name, args, at: path, source: source)
            case .text(let t): return .string(t)
            }
        }
        var text = ""
        for piece in pieces {
            switch piece {
            case .text(let t): text += t
            case .node(let key): text += try lookup(key, at: path, source: source).interpolationText
            case .resolver(let name, let args): text += try call(name, args, at: path, source: source).interpolationText
            }
        }
        return .string(text)
    }

    private func text(of pieces: [TemplatePiece], at path: [String], source: String) throws -> String {
        try value(of: pieces, at: path, source: source).interpolationText
    }

    private func lookup(_ keyPieces: [TemplatePiece], at path: [String], source: String) throws -> ConfigNode {
        let key = try text(of: keyPieces, at: path, source: source)
        var target: [String]
        if key.hasPrefix(".") {
            // Relative: one dot is the containing node, each further dot one level up.
            let dots = key.prefix { $0 == "." }.count
            var base = Array(path.dropLast())
            for _ in 1..<dots {
                guard !base.isEmpty else {
                    throw ConfigError(.interpolation, "interpolation '\(ConfigLimits.excerpt(source))' at '\(ConfigPath.join(path))' climbs above the root")
                }
                base.removeLast()
            }
            let rest = String(key.dropFirst(dots))
            target = base + (try ConfigPath.parse(rest))
        } else {
            target = try ConfigPath.parse(key)
        }
        guard try locate(target) != nil else {
            throw ConfigError.unknownKey(ConfigPath.join(target), in: root,
                                         context: " in interpolation '\(ConfigLimits.excerpt(source))' at '\(ConfigPath.join(path))'")
        }
        return try resolved(target)
    }

    /// A resolver argument: a lone quoted or plain text is typed like a YAML scalar (quoted
    /// stays a string); anything with an interpolation is evaluated.
    private func argument(_ pieces: [TemplatePiece], at path: [String], source: String) throws -> ConfigNode {
        let quoted = pieces.contains(.text(""))
        let trimmed = trim(pieces)
        if trimmed.isEmpty { return quoted ? .string("") : .string("") }
        if trimmed.count == 1, case .text(let t) = trimmed[0] {
            return quoted ? .string(t) : OverrideValueParser.primitive(t)
        }
        return try value(of: trimmed, at: path, source: source)
    }

    private func trim(_ pieces: [TemplatePiece]) -> [TemplatePiece] {
        var p = pieces.filter { $0 != .text("") }
        if case .text(let t)? = p.first { p[0] = .text(String(t.drop { $0 == " " })) }
        if case .text(let t)? = p.last { p[p.count - 1] = .text(String(t.reversed().drop { $0 == " " }.reversed())) }
        return p.filter { $0 != .text("") }
    }

    private func call(_ name: String, _ args: [[TemplatePiece]], at path: [String], source: String) throws -> ConfigNode {
        let where_ = ConfigPath.join(path)
        func bad(_ why: String) -> ConfigError {
            ConfigError(.interpolation, "interpolation '\(ConfigLimits.excerpt(source))' at '\(where_)': \(why)")
        }
        switch name {
        case "oc.env":
            guard let first = args.first, args.count <= 2 else { throw bad("oc.env takes a variable name and an optional default") }
            let variable = try text(of: trim(first), at: path, source: source)
            if let value = context.environment[variable] { return .string(value) }
            guard args.count == 2 else {
                throw ConfigError(.missingEnvironmentVariable,
                                  "environment variable '\(ConfigLimits.excerpt(variable))' is not set (needed by '\(ConfigLimits.excerpt(source))' at '\(where_)'); set it or give a default: ${oc.env:\(ConfigLimits.excerpt(variable)),default}")
            }
            let fallback = try argument(args[1], at: path, source: source)
            switch fallback {
            case .null: return .null
            case .string: return fallback
            default: return .string(fallback.interpolationText)
            }
        case "oc.select":
            guard let first = args.first, args.count <= 2 else { throw bad("oc.select takes a key and an optional default") }
            let key = try text(of: trim(first), at: path, source: source)
            let target = try ConfigPath.parse(key)
            if try locate(target) != nil { return try resolved(target) }
            return args.count == 2 ? try argument(args[1], at: path, source: source) : .null
        case "now":
            let format = try args.map { try text(of: $0, at: path, source: source) }.joined(separator: ",")
            return .string(Self.strftime(format, context.now))
        case "hydra":
            guard args.count == 1 else { throw bad("hydra takes one key") }
            let key = try text(of: trim(args[0]), at: path, source: source)
            return try hydraValue(key, at: path, source: source)
        default:
            var message = "unknown resolver '\(ConfigLimits.excerpt(name))' in '\(ConfigLimits.excerpt(source))' at '\(where_)'"
            let close = Suggestions.closest(to: name, among: Self.resolverNames)
            message += close.isEmpty ? " (available: \(Self.resolverNames.joined(separator: ", ")))" : "; did you mean \(Suggestions.list(close))?"
            throw ConfigError(.interpolation, message)
        }
    }

    private func hydraValue(_ key: String, at path: [String], source: String) throws -> ConfigNode {
        switch key {
        case "runtime.output_dir":
            if let dir = context.outputDirectory { return .string(absolute(dir)) }
            if try locate(["hydra", "run", "dir"]) != nil {
                let dir = try resolved(["hydra", "run", "dir"])
                return .string(absolute(dir.interpolationText))
            }
            return .string(context.currentDirectory)
        case "runtime.cwd":
            return .string(context.currentDirectory)
        default:
            if key.hasPrefix("runtime.choices.") {
                let group = String(key.dropFirst("runtime.choices.".count)).replacingOccurrences(of: ".", with: "/")
                if let choice = context.choices[group] { return .string(choice) }
            }
            let target = ["hydra"] + (try ConfigPath.parse(key))
            guard try locate(target) != nil else {
                throw ConfigError(.interpolation,
                                  "interpolation '\(ConfigLimits.excerpt(source))' at '\(ConfigPath.join(path))' reads hydra key '\(ConfigLimits.excerpt(key))', which this configuration does not have")
            }
            return try resolved(target)
        }
    }

    private func absolute(_ dir: String) -> String {
        if dir.hasPrefix("/") { return URL(fileURLWithPath: dir).standardizedFileURL.path }
        return URL(fileURLWithPath: context.currentDirectory).appendingPathComponent(dir).standardizedFileURL.path
    }

    static func strftime(_ format: String, _ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [Int8](repeating: 0, count: 512)
        let n = Foundation.strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
