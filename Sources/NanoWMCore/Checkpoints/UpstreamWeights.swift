import SwiftTorch

/// Finds the world model's weights in a checkpoint as upstream's `pretrained` path does:
/// a Lightning checkpoint keeps the whole training module (`model.*` beside the codec's
/// `vae.*`), `torch.compile` inserts `_orig_mod.`, and bare state dicts or safetensors hold
/// the model's keys directly.
public enum UpstreamWeights {
    static let modulePrefix = "model."
    static let compilePrefix = "_orig_mod."

    /// The model's tensors, keyed as NanoWM's own state dict, not yet read from disk.
    public static func modelTensors(in checkpoint: Checkpoint) throws -> [String: TensorRef] {
        try normalise(checkpoint.stateDict())
    }

    /// Keeps only `model.*` when that prefix is present (so codec weights are dropped) and
    /// strips `model.`, then `_orig_mod.`.
    public static func normalise(_ entries: [(String, TensorRef)]) -> [String: TensorRef] {
        let wrapped = entries.contains { $0.0.hasPrefix(modulePrefix) }
        var clean: [String: TensorRef] = [:]
        for (key, tensor) in entries {
            var name = Substring(key)
            if wrapped {
                guard name.hasPrefix(modulePrefix) else { continue }
                name = name.dropFirst(modulePrefix.count)
            }
            if name.hasPrefix(compilePrefix) { name = name.dropFirst(compilePrefix.count) }
            clean[String(name)] = tensor
        }
        return clean
    }

    /// Upstream registers the SD-VAE as the training module's `vae`, so its Lightning
    /// checkpoints carry `vae.*` weights, which its evaluation uses: puts them into `codec`.
    /// Returns how many tensors were set, or nil when the checkpoint has none.
    public static func loadCodecWeights(_ checkpoint: Checkpoint, into codec: SDVAECodec) throws -> Int? {
        let entries = try checkpoint.stateDict().filter { $0.0.hasPrefix("vae.") }
        guard !entries.isEmpty else { return nil }
        var weights: [String: Tensor] = [:]
        for (key, tensor) in entries { weights[key] = try tensor.load() }
        do {
            return try codec.loadWeights(weights)
        } catch let error as TorchError {
            throw CheckpointError(checkpoint.path, "its vae.* weights do not fit \(codec.file.module.path): \(error)")
        }
    }

    /// Loads a checkpoint into `model`. Strict by default: one error names every missing,
    /// unexpected and mis-shaped key, and nothing is loaded.
    @discardableResult
    public static func load(_ path: String, into model: Module, strict: Bool = true) throws -> StateDictReport {
        try load(try Checkpoint.open(path), into: model, strict: strict)
    }

    /// The same for a checkpoint already open, so callers that also read its other fields
    /// parse the file once.
    @discardableResult
    public static func load(_ checkpoint: Checkpoint, into model: Module, strict: Bool = true) throws -> StateDictReport {
        do {
            return try model.loadStateDict(try modelTensors(in: checkpoint), strict: strict)
        } catch let error as TorchError {
            throw CheckpointError(checkpoint.path, "\(error)")
        }
    }
}
