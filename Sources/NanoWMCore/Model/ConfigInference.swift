import SwiftTorch

extension NanoWMConfig {
    /// The configuration whose state dict has these keys and shapes:
    /// hidden size and patch count from `pos_embed` [1, P, D]; patch size and channels from
    /// `x_embedder.proj.weight` [D, C, p, p] (input size = √P·p); frames from `temp_embed`;
    /// heads from the QK-norm width (head dim); depth from the numbered blocks; the SwiGLU
    /// ratio from `mlp.w1`; actions from `action_embedder`; the injection kind from its keys.
    ///
    /// Two things leave no trace in the weights: `causal`, and whether an injection without
    /// weights is `additive` or `adaln_fuse`. Both come from the caller; the defaults are the
    /// reference constructor's (`causal: false`, `additive`).
    public init(inferringFrom shapes: [String: [Int]], causal: Bool = false,
                weightlessInjection: ActionInjection = .additive) throws {
        func shape(_ key: String, rank: Int) throws -> [Int] {
            guard let s = shapes[key] else {
                throw TorchError.invalidArgument("not a NanoWM state dict: no '\(key)'")
            }
            guard s.count == rank else {
                throw TorchError.invalidArgument("not a NanoWM state dict: '\(key)' has shape \(s), expected rank \(rank)")
            }
            return s
        }
        guard weightlessInjection == .additive || weightlessInjection == .adalnFuse else {
            throw TorchError.invalidArgument("weightlessInjection must be additive or adaln_fuse, got \(weightlessInjection.rawValue)")
        }
        let pos = try shape("pos_embed", rank: 3)
        let conv = try shape("x_embedder.proj.weight", rank: 4)
        let (patches, hidden, patch) = (pos[1], pos[2], conv[2])
        let side = Int(Double(patches).squareRoot().rounded())
        guard side * side == patches else {
            throw TorchError.invalidArgument("pos_embed holds \(patches) patches, not a square grid")
        }
        let headDim = try shape("blocks.0.attn.q_norm.weight", rank: 1)[0]
        let mlpHidden = try shape("blocks.0.mlp.w1.weight", rank: 2)[0]
        // Blocks are numbered 0..<depth; count them by their attention weights.
        let depth = Set(shapes.keys.compactMap { key -> Int? in
            let parts = key.split(separator: ".")
            guard parts.count == 5, parts[0] == "blocks", parts[2] == "attn", parts[3] == "qkv", parts[4] == "weight" else { return nil }
            return Int(parts[1])
        }).count

        var injection = weightlessInjection
        if shapes["blocks.0.action_adaLN_modulation.1.weight"] != nil { injection = .adaln }
        if shapes["blocks.0.film_modulation.1.weight"] != nil { injection = .film }
        if shapes["blocks.0.cross_gate"] != nil { injection = .crossAttention }
        let actionDim = shapes["action_embedder.mlp.0.weight"].map { $0[1] }

        self.init(inputSize: side * patch, patchSize: patch, inChannels: conv[1], hiddenSize: hidden,
                  depth: depth, numHeads: hidden / headDim, mlpRatio: Self.ratio(mlpHidden, over: hidden),
                  numFrames: try shape("temp_embed", rank: 3)[1], useAction: actionDim != nil,
                  actionDim: actionDim, actionInjection: injection, causal: causal)
        try validate()
    }

    /// Infers from a state dict's tensors (only their shapes are read).
    public init(inferringFrom stateDict: [String: Tensor], causal: Bool = false,
                weightlessInjection: ActionInjection = .additive) throws {
        try self.init(inferringFrom: stateDict.mapValues { $0.shape }, causal: causal,
                      weightlessInjection: weightlessInjection)
    }

    /// The smallest ratio r with Int(D·r) == H, so the SwiGLU width round-trips exactly.
    private static func ratio(_ hidden: Int, over dim: Int) -> Double {
        var r = Double(hidden) / Double(dim)
        while Int(Double(dim) * r) < hidden { r = r.nextUp }
        return r
    }
}
