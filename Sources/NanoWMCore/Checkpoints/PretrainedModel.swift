import SwiftTorch

extension NanoWMModel {
    /// Builds the model a checkpoint describes (architecture inferred from its keys) and loads
    /// its weights strictly, reading each tensor straight into its parameter.
    ///
    /// - Parameters:
    ///   - causal: what the weights cannot tell; upstream's configs train causal models.
    ///   - weightlessInjection: `additive` or `adaln_fuse`, which leave the same keys.
    public static func load(checkpoint path: String, causal: Bool = true,
                            weightlessInjection: ActionInjection = .additive, device: Device = .cpu) throws -> NanoWMModel {
        let checkpoint = try Checkpoint.open(path)
        let tensors = try UpstreamWeights.modelTensors(in: checkpoint)
        let config: NanoWMConfig
        do {
            config = try NanoWMConfig(inferringFrom: tensors.mapValues(\.shape), causal: causal, weightlessInjection: weightlessInjection)
        } catch {
            throw CheckpointError(path, "\(error)")
        }
        let model = try NanoWMModel(config)
        try UpstreamWeights.load(checkpoint, into: model)
        if device != .cpu { try model.to(device) }
        model.eval()
        return model
    }
}

extension NanoWMConfig {
    /// One line: `NanoWM-B/2 (hidden 768, 12 heads, depth 12), 32×32×4 latents, 4 frames, actions 10-d additive, causal`.
    public var summary: String {
        let name = variantName ?? "custom NanoWM"
        let actions = useAction ? "actions \(actionDim ?? 0)-d \(actionInjection.rawValue)" : "no actions"
        return "\(name) (hidden \(hiddenSize), \(numHeads) heads, depth \(depth), patch \(patchSize)), "
            + "\(inputSize)×\(inputSize)×\(inChannels) input, \(numFrames) frames, \(actions), \(causal ? "causal" : "bidirectional")"
    }
}
