/// Bounds on configuration input, so that hostile text (deep nesting, huge dotted keys, YAML
/// alias bombs) is refused with one line instead of exhausting the stack, memory or time.
/// They sit far above anything a real configuration uses (the project's deepest tree is about
/// 6 levels, its longest key about 60 characters and its largest file a few hundred nodes).
public enum ConfigLimits {
    /// Nesting of mappings and lists: a YAML document, an override value (`[[…]]`, `{a: {…}}`),
    /// an override key's dotted parts plus its value, a `# @package` path.
    public static let maxDepth = 100
    /// Nesting of `${…}` inside one string.
    public static let maxInterpolationDepth = 100
    /// Keys the resolver works on at once: the tree's depth plus the length of a chain of
    /// interpolations that refer to further interpolations (each recursion costs stack).
    public static let maxResolveDepth = 400
    /// Characters in an override key (`experiment.training.lr`).
    public static let maxKeyLength = 4096
    /// Nodes of one YAML document with every alias expanded (an alias bomb expands exponentially).
    public static let maxYAMLNodes = 1_000_000

    /// At most this much of a hostile input is echoed in a message, so the message stays readable.
    static let echoLength = 120

    /// The text, cut to `echoLength` characters with a note of how much was left out.
    static func excerpt(_ text: String) -> String {
        guard text.count > echoLength else { return text }
        return String(text.prefix(echoLength)) + "… (\(text.count) characters)"
    }
}
