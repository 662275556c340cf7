import CYaml

/// Refuses YAML that is too deep or expands to too many nodes, before anything builds a tree.
///
/// Yams composes recursively (deep nesting would exhaust the stack), and an alias repeats its
/// anchor's content, so ten levels of ten aliases ("billion laughs") expand to 10^10 nodes when
/// converted. This check reads libyaml's event stream once (libyaml keeps its own stacks on the
/// heap) and tracks, per anchor, how many nodes and levels it stands for: time and memory stay
/// linear in the text, and it stops at the first level or node past the limits.
enum YAMLShapeCheck {
    /// What one node stands for once its aliases are expanded.
    private struct Extent {
        /// Nodes, itself included.
        var nodes = 1
        /// Levels of lists and mappings (0 for a scalar).
        var levels = 0
    }

    private struct Open {
        var anchor: String?
        var extent = Extent()
        var childLevels = 0
    }

    static func check(_ text: String, source: String) throws {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        var utf8 = Array(text.utf8)
        try utf8.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            try walk(&parser, source: source)
        }
    }

    private static func walk(_ parser: inout yaml_parser_t, source: String) throws {
        var anchors: [String: Extent] = [:]
        var open: [Open] = []
        var total = 0
        var event = yaml_event_t()
        while true {
            // A syntax error is left to Yams, which reports it with its position.
            guard yaml_parser_parse(&parser, &event) == 1 else { return }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            var finished: (Extent, String?)?
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_DOCUMENT_START_EVENT:
                anchors = [:]
            case YAML_SCALAR_EVENT:
                finished = (Extent(), name(event.data.scalar.anchor))
            case YAML_ALIAS_EVENT:
                // An undefined alias is Yams's error to report.
                finished = (name(event.data.alias.anchor).flatMap { anchors[$0] } ?? Extent(), nil)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let anchor = event.type == YAML_SEQUENCE_START_EVENT
                    ? name(event.data.sequence_start.anchor) : name(event.data.mapping_start.anchor)
                open.append(Open(anchor: anchor))
                total += 1
                try checkDepth(open.count, line: line, source: source)
                try checkTotal(total, line: line, source: source)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard var done = open.popLast() else { return }
                done.extent.levels = done.childLevels + 1
                finished = (done.extent, done.anchor)
            default:
                break
            }
            guard let (extent, anchor) = finished else { continue }
            if let anchor { anchors[anchor] = extent }
            guard !open.isEmpty else { continue }
            // Containers were counted when they opened; scalars and aliases count here.
            if event.type == YAML_SCALAR_EVENT || event.type == YAML_ALIAS_EVENT {
                total += extent.nodes
                try checkTotal(total, line: line, source: source)
                try checkDepth(open.count + extent.levels, line: line, source: source)
            }
            open[open.count - 1].extent.nodes += extent.nodes
            open[open.count - 1].childLevels = max(open[open.count - 1].childLevels, extent.levels)
        }
    }

    private static func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func checkDepth(_ depth: Int, line: Int, source: String) throws {
        guard depth > ConfigLimits.maxDepth else { return }
        throw ConfigError(.invalidYAML,
                          "invalid YAML in \(source): lists and mappings nest deeper than \(ConfigLimits.maxDepth) levels at line \(line); flatten the structure")
    }

    private static func checkTotal(_ total: Int, line: Int, source: String) throws {
        guard total > ConfigLimits.maxYAMLNodes else { return }
        throw ConfigError(.invalidYAML,
                          "invalid YAML in \(source): it expands to more than \(ConfigLimits.maxYAMLNodes) nodes by line \(line) (aliases repeat their anchor's content); write fewer aliases or a smaller file")
    }
}
