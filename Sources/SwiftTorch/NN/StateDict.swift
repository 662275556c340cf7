/// Loading named tensors into a module, PyTorch's `load_state_dict`.
public struct StateDictReport: Equatable, CustomStringConvertible {
    public var missing: [String] = []
    public var unexpected: [String] = []
    /// Keys present on both sides whose shapes differ: (key, expected, found).
    public var mismatched: [(String, [Int], [Int])] = []

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    public static func == (a: StateDictReport, b: StateDictReport) -> Bool {
        a.missing == b.missing && a.unexpected == b.unexpected
            && a.mismatched.map { "\($0)" } == b.mismatched.map { "\($0)" }
    }

    /// One readable line listing every problem.
    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys (\(missing.count)): \(missing.joined(separator: ", "))") }
        if !unexpected.isEmpty { parts.append("unexpected keys (\(unexpected.count)): \(unexpected.joined(separator: ", "))") }
        if !mismatched.isEmpty {
            let shapes = mismatched.map { "\($0.0) expects \($0.1), got \($0.2)" }
            parts.append("shape mismatches (\(mismatched.count)): \(shapes.joined(separator: "; "))")
        }
        return parts.isEmpty ? "all keys matched" : parts.joined(separator: " | ")
    }
}

extension Module {
    /// Copies `tensors` into this module's parameters and persistent buffers, in place (so
    /// optimizers holding them see the new values), converting dtype and device as needed.
    ///
    /// `strict` (the default) loads nothing unless keys and shapes match exactly, and throws
    /// one message naming every missing, unexpected and mismatched key. Otherwise the
    /// matching entries are loaded and the report says what was skipped.
    @discardableResult
    public func loadStateDict(_ tensors: [String: Tensor], strict: Bool = true) throws -> StateDictReport {
        try load(tensors, shape: \.shape, strict: strict) { target, source in try target.copy_(source) }
    }

    /// Loads a checkpoint's tensors, reading each straight from the file into the parameter
    /// that owns it (no second copy of the weights in memory). Same contract as
    /// `loadStateDict(_:strict:)`; geometry is checked before any byte is read.
    @discardableResult
    public func loadStateDict(_ refs: [String: TensorRef], strict: Bool = true) throws -> StateDictReport {
        try load(refs, shape: \.shape, strict: strict) { target, source in
            if source.dtype == target.dtype && target.isContiguous && target.device == .cpu {
                try source.read(into: target)
            } else {
                try target.copy_(try source.load())
            }
        }
    }

    /// Matches `sources` against the state dict by name and shape, then (when allowed)
    /// copies each match with `assign`.
    private func load<Source>(_ sources: [String: Source], shape: (Source) -> [Int], strict: Bool,
                              assign: (Tensor, Source) throws -> Void) throws -> StateDictReport {
        let expected = stateDict()
        let expectedKeys = Set(expected.map { $0.0 })
        var report = StateDictReport()
        var assignments: [(Tensor, Source)] = []
        for (key, target) in expected {
            guard let source = sources[key] else { report.missing.append(key); continue }
            if shape(source) != target.shape {
                report.mismatched.append((key, target.shape, shape(source)))
            } else {
                assignments.append((target, source))
            }
        }
        report.unexpected = sources.keys.filter { !expectedKeys.contains($0) }.sorted()
        if strict && !report.isClean {
            throw TorchError.invalidArgument("state dict does not match \(type(of: self)): \(report)")
        }
        try withNoGrad {
            for (target, source) in assignments { try assign(target, source) }
        }
        return report
    }
}
