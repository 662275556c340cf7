import Foundation

/// Composes the `configs/` tree the way Hydra composes the reference project's `src/configs`,
/// so the reference's command lines work unchanged:
///
///     let composer = try ConfigComposer.locate()
///     let cfg = try composer.compose(overrides: ["experiment=dino_wm_pusht", "dataset=dino_wm/pusht",
///                                                "model=nanowm_b2", "experiment.diffusion.pred_name=x"])
///     let steps = try cfg.int("experiment.training.max_steps")   // 100000
///
/// What is supported (Hydra 1.3 semantics):
/// * the primary `config.yaml` and its `defaults` list: `group: option` (options may be paths
///   such as `dino_wm/pusht`), `optional group: option`, `group: null`, `override group: option`
///   (from any config, applied before the tree is built; Hydra's own `hydra/…` groups are
///   ignored), plain `path` entries (relative to the containing config's group, `/abs/path`
///   from the root), `group@package` and `path@package`, and `_self_` (last when omitted);
/// * `# @package pkg` headers (absolute; `_global_` is the root); a group's option lands at
///   the group's package (`dataset`, `model`, …), a nested group's at `parent.group`;
/// * overrides `group=option`, `+group=option`, `~group`, `key=value` (the key must exist),
///   `+key=value` (must not), `++key=value`, `~key`, applied in that order of kinds: group
///   choices first, then values in command-line order;
/// * interpolations, resolved after composition (see `ConfigNode.resolved`).
public struct ConfigComposer: Sendable {
    /// The folder holding `config.yaml` and the group folders.
    public let root: URL
    /// Name of the primary config (without `.yaml`).
    public var primaryConfig: String
    /// Environment for `${oc.env:…}` (and for finding the config folder).
    public var environment: [String: String]

    public static let environmentVariable = "NANOWM_CONFIG_DIR"

    public init(root: URL, primaryConfig: String = "config",
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.root = root.standardizedFileURL
        self.primaryConfig = primaryConfig
        self.environment = environment
    }

    // MARK: Finding the config folder

    /// The config folder: `configDir` when given, else `$NANOWM_CONFIG_DIR`, else a `configs/`
    /// folder with a `config.yaml` found by walking up from the current directory and then from
    /// the executable (a binary under `.build/…/` of a checkout finds the checkout's configs).
    public static func locate(configDir: String? = nil,
                              environment: [String: String] = ProcessInfo.processInfo.environment,
                              currentDirectory: String = FileManager.default.currentDirectoryPath,
                              executablePath: String? = nil) throws -> ConfigComposer {
        let fm = FileManager.default
        func hasPrimary(_ url: URL) -> Bool { fm.fileExists(atPath: url.appendingPathComponent("config.yaml").path) }
        for (explicit, origin) in [(configDir, "--config-dir"), (environment[environmentVariable], environmentVariable)] {
            guard let explicit, !explicit.isEmpty else { continue }
            let url = URL(fileURLWithPath: explicit, relativeTo: URL(fileURLWithPath: currentDirectory, isDirectory: true))
            guard hasPrimary(url) else {
                throw ConfigError(.configRootNotFound, "no config.yaml in \(url.standardizedFileURL.path) (from \(origin))")
            }
            return ConfigComposer(root: url, environment: environment)
        }
        var starts = [URL(fileURLWithPath: currentDirectory, isDirectory: true)]
        let executable = executablePath ?? Bundle.main.executableURL?.path ?? CommandLine.arguments.first
        if let executable {
            let url = URL(fileURLWithPath: executable, relativeTo: URL(fileURLWithPath: currentDirectory, isDirectory: true))
            starts.append(url.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        // Last resort for development builds: the checkout this file was compiled from.
        starts.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())
        for start in starts {
            var dir = start.standardizedFileURL
            while true {
                let candidate = dir.appendingPathComponent("configs")
                if hasPrimary(candidate) { return ConfigComposer(root: candidate, environment: environment) }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw ConfigError(.configRootNotFound,
                          "no configs/config.yaml found above \(currentDirectory) or the executable; pass --config-dir or set \(environmentVariable)")
    }

    // MARK: What the tree offers

    /// Every config group (folders holding option files), as slash paths, sorted.
    public var groups: [String] {
        var out: [String] = []
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey]) else { return [] }
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in walker {
            let isDirectory = (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) ?? false
            if isDirectory {
                out.append(String(url.standardizedFileURL.path.dropFirst(base.count)))
            }
        }
        return out.sorted()
    }

    /// The options of a group (slash paths relative to it, sorted), including those in
    /// sub-folders: `dataset` → `builtin/wall`, `dino_wm/base`, `dino_wm/point_maze`, …
    public func options(in group: String) -> [String] {
        let dir = root.appendingPathComponent(group)
        guard let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { return [] }
        let base = dir.standardizedFileURL.path + "/"
        var out: [String] = []
        for case let url as URL in walker where url.pathExtension == "yaml" {
            let relative = String(url.standardizedFileURL.path.dropFirst(base.count))
            out.append(String(relative.dropLast(".yaml".count)))
        }
        return out.sorted()
    }

    func isGroup(_ path: String) -> Bool {
        guard !path.isEmpty, !path.contains("."), !path.contains("[") else { return false }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory)
            && isDirectory.boolValue
    }

    // MARK: Composition

    /// Composes and resolves: the configuration a run uses (the `hydra` section included;
    /// `removingHydra` gives the reference's job view).
    public func compose(overrides: [String] = []) throws -> ConfigNode {
        try composition(overrides: overrides).resolved()
    }

    /// Composes without resolving; keeps the group choices and overrides for run folders.
    public func composition(overrides: [String] = []) throws -> ConfigComposition {
        let parsed = try overrides.map(ConfigOverride.init(parsing:))
        var cliChoices: [String: String?] = [:]     // group → option (nil: removed)
        var appended: [(group: String, option: String, package: String?)] = []
        var valueOverrides: [ConfigOverride] = []
        for o in parsed {
            if isGroup(o.key) {
                switch o.action {
                case .forceAdd:
                    throw ConfigError(.invalidOverride, "invalid override '\(o.shown)': '++' does not apply to config groups (as in Hydra); write \(o.shown.dropFirst(2)) or +\(o.shown.dropFirst(2))")
                case .change:
                    guard let option = groupOption(o) else { continue }
                    cliChoices[o.key] = option
                case .add:
                    guard let option = groupOption(o) else { continue }
                    appended.append((o.key, option, o.package))
                case .delete:
                    cliChoices[o.key] = .some(nil)
                }
            } else {
                if o.package != nil {
                    throw ConfigError(.invalidOverride, "invalid override '\(o.shown)': '@package' applies only to config groups, and '\(ConfigLimits.excerpt(o.key))' is not one")
                }
                valueOverrides.append(o)
            }
        }

        // Overrides written inside defaults lists change choices everywhere in the tree, so
        // build until the set of such overrides stops changing (Hydra does the same in two passes).
        var treeOverrides: [String: String] = [:]
        var build: TreeBuilder
        var rounds = 0
        while true {
            build = TreeBuilder(composer: self, cliChoices: cliChoices, treeOverrides: treeOverrides)
            try build.buildPrimary(appended: appended)
            rounds += 1
            if build.defaultsOverrides == treeOverrides || rounds > 5 { break }
            treeOverrides = build.defaultsOverrides
        }
        // Choices given on the command line must name a group that the tree uses (Hydra's rule).
        for (group, option) in cliChoices where !build.visitedGroups.contains(group) {
            let shown = option.map { "\(group)=\($0)" } ?? "~\(group)"
            if option == nil { continue }
            throw ConfigError(.unknownGroup,
                              "group '\(group)' is not in the defaults list, so '\(shown)' has nothing to change; use +\(shown) to add it")
        }
        for key in build.defaultsOverrides.keys.sorted() where !build.visitedGroups.contains(key) {
            let group = String(key[..<key.lastIndex(of: "@")!])
            let source = build.overrideSources[key] ?? "a defaults list"
            throw ConfigError(.defaultsList,
                              "'override \(group)' in \(source) matches no group of the tree (it targets '\(key)'); a config that overrides other groups needs '# @package _global_'")
        }

        var config = build.result
        for o in valueOverrides { try Self.apply(o, to: &config) }
        return ConfigComposition(config: config, choices: build.choiceOrder, overrides: overrides,
                                 environment: environment)
    }

    private func groupOption(_ o: ConfigOverride) -> String? {
        guard let text = o.valueText else { return nil }
        if case .null? = o.value { return "null" }
        return text.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
    }

    /// Applies one value override to a composed tree.
    static func apply(_ o: ConfigOverride, to config: inout ConfigNode) throws {
        let path = try ConfigPath.parse(o.key)
        let exists = config.node(at: path) != nil
        switch o.action {
        case .change:
            guard exists else {
                var e = ConfigError.unknownKey(o.key, in: config)
                e = ConfigError(.unknownKey, e.message + " (in override '\(o.shown)'; use +\(o.shown) to add a new key)")
                throw e
            }
            try setMerging(o.value ?? .null, at: path, in: &config)
        case .add:
            guard !exists else {
                throw ConfigError(.keyExists, "config key '\(ConfigLimits.excerpt(o.key))' already exists (in override '\(o.shown)'); write \(o.shown.dropFirst()) to change it or +\(o.shown) to set it either way")
            }
            try config.set(o.value ?? .null, at: path, create: true)
        case .forceAdd:
            if exists { try setMerging(o.value ?? .null, at: path, in: &config) } else { try config.set(o.value ?? .null, at: path, create: true) }
        case .delete:
            guard let current = config.node(at: path) else {
                let e = ConfigError.unknownKey(o.key, in: config)
                throw ConfigError(.unknownKey, e.message + " (in override '\(o.shown)')")
            }
            if let expected = o.value, expected != current {
                throw ConfigError(.invalidOverride, "override '\(o.shown)': '\(ConfigLimits.excerpt(o.key))' is \(ConfigLimits.excerpt(ConfigYAML.flowText(current))), not \(ConfigLimits.excerpt(ConfigYAML.flowText(expected)))")
            }
            try config.remove(at: path)
        }
    }

    private static func setMerging(_ value: ConfigNode, at path: [String], in config: inout ConfigNode) throws {
        if let current = config.node(at: path), case .mapping = current, case .mapping = value {
            try config.set(current.merging(value), at: path, create: false)
        } else {
            try config.set(value, at: path, create: false)
        }
    }
}

/// A composed (not yet resolved) configuration with what produced it.
public struct ConfigComposition: Sendable {
    /// The composed tree, interpolations still in place, `hydra` section included.
    public var config: ConfigNode
    /// The option chosen for each group, in the order the defaults tree visited them
    /// (`model` → `nanowm_b2`, `dataset` → `dino_wm/point_maze`, …).
    public var choices: [(group: String, option: String)]
    /// The overrides as given.
    public var overrides: [String]
    public var environment: [String: String]
    /// The instant `${now:…}` uses, fixed for this composition.
    public var now: Date = Date()

    public var choiceMap: [String: String] { Dictionary(choices.map { ($0.group, $0.option) }, uniquingKeysWith: { $1 }) }

    public var resolveContext: ResolveContext {
        ResolveContext(environment: environment, now: now, choices: choiceMap)
    }

    /// Every interpolation replaced by its value.
    public func resolved() throws -> ConfigNode { try config.resolved(resolveContext) }

    /// The run folder named by `hydra.run.dir` (relative to the current directory unless absolute).
    public func runDirectory() throws -> URL {
        let resolved = try self.resolved()
        let dir = try resolved.string("hydra.run.dir")
        return URL(fileURLWithPath: dir).standardizedFileURL
    }

    /// Writes what the reference writes into a run folder: `config.yaml` (the composed,
    /// unresolved job config), and under `.hydra/`: `config.yaml`, `overrides.yaml` and
    /// `hydra.yaml` (the resolved `hydra` section with the group choices).
    public func saveRunFiles(in directory: URL) throws {
        let job = config.removingHydra
        try job.save(to: directory.appendingPathComponent("config.yaml"))
        let hidden = directory.appendingPathComponent(".hydra")
        try job.save(to: hidden.appendingPathComponent("config.yaml"))
        try ConfigNode.sequence(overrides.map { .string($0) }).save(to: hidden.appendingPathComponent("overrides.yaml"))
        var hydra = (try? resolved()["hydra"]) ?? nil ?? .emptyMapping
        if case .mapping = hydra {} else { hydra = .emptyMapping }
        var choiceNode = ConfigMapping()
        for (group, option) in choices { choiceNode[group] = .string(option) }
        hydra["runtime.output_dir"] = .string(directory.standardizedFileURL.path)
        hydra["runtime.choices"] = .mapping(choiceNode)
        hydra["overrides.task"] = .sequence(overrides.map { .string($0) })
        try ConfigNode.mapping(ConfigMapping([("hydra", hydra)])).save(to: hidden.appendingPathComponent("hydra.yaml"))
    }
}

// MARK: - The defaults tree

private struct DefaultsEntry {
    enum Kind {
        case selfContent
        /// `group: option` (option nil for `group: null`).
        case group(String, option: String?, optional: Bool, override: Bool)
        /// a plain config path.
        case config(String)
    }

    var kind: Kind
    var package: String?

    static func parse(_ node: ConfigNode, in source: String) throws -> DefaultsEntry {
        func bad(_ why: String) -> ConfigError {
            ConfigError(.defaultsList, "invalid defaults entry \(ConfigYAML.flowText(node)) in \(source): \(why)")
        }
        switch node {
        case .string(let s):
            if s == "_self_" { return DefaultsEntry(kind: .selfContent, package: nil) }
            let (path, package) = splitPackage(s)
            return DefaultsEntry(kind: .config(path), package: package)
        case .mapping(let m) where m.count == 1:
            let (rawKey, value) = (m.keys[0], m[m.keys[0]]!)
            var words = rawKey.split(separator: " ").map(String.init)
            var optional = false, override = false
            while words.count > 1 {
                switch words[0] {
                case "optional": optional = true
                case "override": override = true
                default: throw bad("unknown keyword '\(words[0])'")
                }
                words.removeFirst()
            }
            guard let key = words.first else { throw bad("empty group") }
            let (group, package) = splitPackage(key)
            let option: String?
            switch value {
            case .null: option = nil
            case .string(let s): option = s
            case .int, .double, .bool: option = value.interpolationText
            case .sequence: throw bad("selecting several options of one group is not supported")
            case .mapping: throw bad("expected an option name")
            }
            return DefaultsEntry(kind: .group(group, option: option, optional: optional, override: override), package: package)
        default:
            throw bad("expected '_self_', a config path or 'group: option'")
        }
    }

    private static func splitPackage(_ s: String) -> (String, String?) {
        guard let at = s.firstIndex(of: "@") else { return (s, nil) }
        return (String(s[..<at]), String(s[s.index(after: at)...]))
    }
}

private struct TreeBuilder {
    let composer: ConfigComposer
    /// Group choices from the command line, by group path (nil: removed).
    let cliChoices: [String: String?]
    /// Choices from `override` entries of the previous build, by `group@package`.
    let treeOverrides: [String: String]
    var result: ConfigNode = .emptyMapping
    /// `override` entries met in this build, by `group@package` (Hydra matches both).
    var defaultsOverrides: [String: String] = [:]
    var overrideSources: [String: String] = [:]
    /// Group paths and `group@package` keys of the group defaults met.
    var visitedGroups: Set<String> = []
    var choiceOrder: [(group: String, option: String)] = []
    private var stack: [String] = []

    init(composer: ConfigComposer, cliChoices: [String: String?], treeOverrides: [String: String]) {
        self.composer = composer
        self.cliChoices = cliChoices
        self.treeOverrides = treeOverrides
    }

    mutating func buildPrimary(appended: [(group: String, option: String, package: String?)]) throws {
        let extra = try appended.map { item -> DefaultsEntry in
            guard composer.options(in: item.group).contains(item.option) else {
                throw unknownOption(group: item.group, option: item.option, from: "the command line")
            }
            return DefaultsEntry(kind: .group(item.group, option: item.option, optional: false, override: false),
                                 package: item.package)
        }
        try load(configPath: composer.primaryConfig, groupBase: "", package: "", appended: extra)
    }

    private func url(_ configPath: String) -> URL {
        composer.root.appendingPathComponent(configPath + ".yaml")
    }

    private func exists(_ configPath: String) -> Bool {
        FileManager.default.fileExists(atPath: url(configPath).path)
    }

    /// Loads one config: its defaults in order, with its own content where `_self_` stands.
    private mutating func load(configPath: String, groupBase: String, package: String,
                               appended: [DefaultsEntry] = []) throws {
        guard !stack.contains(configPath) else {
            throw ConfigError(.defaultsList, "defaults cycle: \((stack + [configPath]).joined(separator: " -> "))")
        }
        stack.append(configPath)
        defer { stack.removeLast() }
        let file = url(configPath)
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw ConfigError(.missingConfig, "cannot read \(file.path): \(error.localizedDescription)")
        }
        let source = configPath + ".yaml"
        var content = try ConfigYAML.parse(text, source: source)
        let finalPackage = Self.packageHeader(text).map(Self.absolutePackage) ?? package
        var entries: [DefaultsEntry] = []
        if case .mapping(var m) = content, let defaults = m.removeValue(forKey: "defaults") {
            content = .mapping(m)
            guard case .sequence(let items) = defaults else {
                throw ConfigError(.defaultsList, "'defaults' in \(source) must be a list")
            }
            entries = try items.map { try DefaultsEntry.parse($0, in: source) }
        } else if !content.isScalar, content.mapping == nil {
            throw ConfigError(.invalidYAML, "\(source) must hold a mapping")
        }
        if !entries.contains(where: { if case .selfContent = $0.kind { return true } else { return false } }) {
            entries.append(DefaultsEntry(kind: .selfContent, package: nil))
        }
        entries += appended

        // Overrides first: they only change choices.
        for entry in entries {
            guard case .group(let group, let option, _, true) = entry.kind else { continue }
            let full = Self.groupPath(group, base: groupBase)
            if full.hasPrefix("hydra/") && !composer.isGroup(full) { continue }  // Hydra's own groups
            guard let option else { continue }
            let relative = group.hasPrefix("/") ? String(group.dropFirst()) : group
            let key = full + "@" + Self.childPackage(parent: finalPackage, explicit: entry.package, relativeGroup: relative)
            if defaultsOverrides[key] == nil {
                defaultsOverrides[key] = option
                overrideSources[key] = source
            }
        }
        for entry in entries {
            switch entry.kind {
            case .selfContent:
                try merge(content, at: finalPackage, source: source)
            case .group(let group, let declared, let optional, let isOverride):
                if isOverride { continue }
                let full = Self.groupPath(group, base: groupBase)
                let relative = group.hasPrefix("/") ? String(group.dropFirst()) : group
                let childPackage = Self.childPackage(parent: finalPackage, explicit: entry.package,
                                                     relativeGroup: relative)
                let key = full + "@" + childPackage
                visitedGroups.insert(full)
                visitedGroups.insert(key)
                let chosen: String?
                if let choice = cliChoices[full] { chosen = choice } else { chosen = treeOverrides[key] ?? declared }
                guard let option = chosen, option != "null" else { continue }
                let configPath = full + "/" + option
                guard exists(configPath) else {
                    if optional { continue }
                    throw unknownOption(group: full, option: option, from: source)
                }
                choiceOrder.append((full, option))
                try load(configPath: configPath, groupBase: full, package: childPackage)
            case .config(let path):
                let full = Self.groupPath(path, base: groupBase)
                guard exists(full) else {
                    throw ConfigError(.missingConfig, "config '\(full)' (listed in the defaults of \(source)) does not exist")
                }
                let relativeDir = path.hasPrefix("/") ? Self.dirname(String(path.dropFirst())) : Self.dirname(path)
                let childPackage = Self.childPackage(parent: finalPackage, explicit: entry.package,
                                                     relativeGroup: relativeDir)
                try load(configPath: full, groupBase: Self.dirname(full), package: childPackage)
            }
        }
    }

    private func unknownOption(group: String, option: String, from source: String) -> ConfigError {
        let available = composer.options(in: group)
        if available.isEmpty && composer.isGroup(group) {
            return ConfigError(.unknownOption, "unknown option '\(group)=\(option)' (in \(source)): the group '\(group)' has no options yet")
        }
        if available.isEmpty {
            return ConfigError(.unknownGroup, "unknown config group '\(group)' (in \(source)); groups: \(composer.groups.joined(separator: ", "))")
        }
        var text = "unknown option '\(group)=\(option)' (available: \(available.joined(separator: ", ")))"
        let close = Suggestions.closest(to: option, among: available)
        if !close.isEmpty { text += "; did you mean \(Suggestions.list(close))?" }
        return ConfigError(.unknownOption, text)
    }

    private mutating func merge(_ content: ConfigNode, at package: String, source: String) throws {
        var wrapped = content
        if !package.isEmpty {
            let keys = package.split(separator: ".")
            // Merging recurses once per level: a hostile package path must not exhaust the stack.
            guard keys.count <= ConfigLimits.maxDepth else {
                throw ConfigError(.defaultsList,
                                  "the package of \(source) has \(keys.count) parts, over the nesting limit of \(ConfigLimits.maxDepth) levels; use a shorter '# @package' path")
            }
            for key in keys.reversed() {
                wrapped = .mapping(ConfigMapping([(String(key), wrapped)]))
            }
        }
        result = result.merging(wrapped)
    }

    // MARK: Paths and packages

    static func groupPath(_ path: String, base: String) -> String {
        if path.hasPrefix("/") { return String(path.dropFirst()) }
        return base.isEmpty ? path : base + "/" + path
    }

    static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// `# @package x` in the leading comment lines.
    static func packageHeader(_ text: String) -> String? {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard t.hasPrefix("#") else { return nil }
            let body = t.dropFirst().trimmingCharacters(in: .whitespaces)
            if body.hasPrefix("@package") {
                return body.dropFirst("@package".count).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Headers are absolute: `_global_` is the root, `_global_.a` is `a`.
    static func absolutePackage(_ header: String) -> String {
        if header == "_global_" { return "" }
        if header.hasPrefix("_global_.") { return String(header.dropFirst("_global_.".count)) }
        return header
    }

    /// An entry's package: `@pkg` relative to the parent's (absolute when it starts with
    /// `_global_`), else the parent's package extended by the entry's relative group path.
    static func childPackage(parent: String, explicit: String?, relativeGroup: String) -> String {
        let own = explicit ?? relativeGroup.replacingOccurrences(of: "/", with: ".")
        var joined: String
        if own.isEmpty { joined = parent } else if parent.isEmpty { joined = own } else { joined = parent + "." + own }
        if let range = joined.range(of: "_global_", options: .backwards) {
            joined = String(joined[range.upperBound...])
            if joined.hasPrefix(".") { joined.removeFirst() }
        }
        return joined
    }
}
