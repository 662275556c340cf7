import SwiftTorch

/// The NanoWM world model: a latent-video diffusion transformer whose blocks alternate
/// spatial attention (within a frame) and temporal attention (across frames), conditioned on
/// the diffusion timestep (adaLN-Zero) and optionally on per-frame actions.
///
/// Parameter names, shapes and order are the reference PyTorch model's, so its state dicts
/// load strictly; the RoPE tables are recomputed, never saved.
public final class NanoWMModel: Module {
    public let config: NanoWMConfig
    @Parameter public var pos_embed: Tensor      // [1, P, D], a learned offset per patch
    @Parameter public var temp_embed: Tensor     // [1, F, D], added before the first temporal block
    public let action_embedder: ActionEmbedder?
    public let x_embedder: PatchEmbedder
    public let t_embedder: TimestepEmbedder
    public let blocks: [NanoWMBlock]
    public let final_layer: FinalLayer
    let spatialRoPE: RotaryEmbedding
    let temporalRoPE: RotaryEmbedding

    /// A freshly initialised model. Seeded with `manualSeed`, it holds the same weights the
    /// reference would after `torch.manual_seed` with the same seed (same draws, same order).
    public init(_ config: NanoWMConfig) throws {
        try config.validate()
        self.config = config
        let d = config.hiddenSize
        // Construction order is the reference's: each Linear/Conv draws its default init now.
        action_embedder = config.useAction ? try ActionEmbedder(actionDim: config.actionDim!, hiddenSize: d) : nil
        x_embedder = try PatchEmbedder(imageSize: config.inputSize, patchSize: config.patchSize,
                                       inChannels: config.inChannels, hiddenSize: d)
        t_embedder = try TimestepEmbedder(hiddenSize: d)
        spatialRoPE = try RotaryEmbedding.grid(headDim: config.headDim, side: config.gridSize)
        temporalRoPE = try RotaryEmbedding.sequence(headDim: config.headDim, length: config.numFrames)
        pos_embed = try Tensor.zeros([1, config.numPatches, d])
        temp_embed = try Tensor.zeros([1, config.numFrames, d])
        blocks = try (0..<config.depth).map { _ in
            try NanoWMBlock(hiddenSize: d, numHeads: config.numHeads, mlpHiddenSize: config.mlpHiddenSize,
                            actionInjection: config.actionInjection)
        }
        final_layer = try FinalLayer(hiddenSize: d, patchSize: config.patchSize, outChannels: config.outChannels)
        super.init()
        try initializeWeights()
    }

    /// A model shaped by `stateDict` (see `NanoWMConfig(inferringFrom:)`) holding its
    /// weights; every key must match. `causal` and the additive/adaln_fuse choice are not
    /// recorded in weights, so they come from the caller.
    public convenience init(stateDict: [String: Tensor], causal: Bool = false,
                            weightlessInjection: ActionInjection = .additive) throws {
        let config = try NanoWMConfig(inferringFrom: stateDict.mapValues { $0.shape }, causal: causal,
                                      weightlessInjection: weightlessInjection)
        try self.init(config)
        try loadStateDict(stateDict, strict: true)
    }

    // MARK: Initialisation

    /// The reference's scheme, in its order: xavier-uniform for every Linear (bias 0), visited
    /// children-first; N(0, 0.02) for `pos_embed` and `temp_embed`; the patch conv as a
    /// flattened Linear; N(0, 0.02) for the timestep MLP weights; then zeros for everything
    /// that should start as a no-op (adaLN outputs, action adaLN/FiLM outputs, cross-attention
    /// output, the final layer).
    func initializeWeights() throws {
        try apply { module in
            guard let linear = module as? Linear else { return }
            try Init.xavierUniform_(linear.weight)
            if let bias = linear.bias { try Init.zeros_(bias) }
        }
        try Init.normal_(pos_embed, std: 0.02)
        try Init.normal_(temp_embed, std: 0.02)
        let conv = x_embedder.proj
        try Init.xavierUniform_(conv.weight.view([conv.weight.size(0), -1]))
        try Init.zeros_(conv.bias!)
        for layer in t_embedder.mlp.layers {
            if let linear = layer as? Linear { try Init.normal_(linear.weight, std: 0.02) }
        }
        var zeroed: [Linear] = []
        for block in blocks {
            zeroed.append(Self.outputLinear(block.adaLN_modulation))
            if let m = block.action_adaLN_modulation { zeroed.append(Self.outputLinear(m)) }
            if let m = block.film_modulation { zeroed.append(Self.outputLinear(m)) }
            if let cross = block.cross_attn { zeroed.append(cross.proj) }
        }
        zeroed += [Self.outputLinear(final_layer.adaLN_modulation), final_layer.linear]
        for linear in zeroed {
            try Init.zeros_(linear.weight)
            try Init.zeros_(linear.bias!)
        }
    }

    private static func outputLinear(_ sequential: Sequential) -> Linear { sequential.layers.last as! Linear }

    // MARK: Forward

    /// Predicts one output per input frame.
    /// - x: [B, F, C, S, S] noisy latents (F = `numFrames`).
    /// - t: diffusion timesteps, [B] (one per clip) or [B, F] (one per frame).
    /// - action: [B, F, A], frame k's action leading to frame k+1; used when the model was
    ///   built with actions (frame 0 is conditioned on nothing, frame k on action k−1).
    /// - Returns: [B, F, C, S, S].
    public func callAsFunction(_ x: Tensor, t: Tensor, action: Tensor? = nil) throws -> Tensor {
        let (b, f) = try checkInputs(x, t, action)
        let d = config.hiddenSize, p = config.numPatches
        // Tokens [B, F, P, D]; adding the patch's transposed conv output to pos_embed (in that
        // order) yields a contiguous result without a separate copy.
        let frames = try x.reshape([b * f, config.inChannels, config.inputSize, config.inputSize])
        var tokens = try (pos_embed + x_embedder(frames)).view([b, f, p, d])

        let timestep = try timestepEmbedding(t, batch: b, frames: f)   // [B, F, D]
        var c = timestep
        var blockAction = try actionEmbedding(action, frames: f)      // [B, F, D] or nil
        if config.actionInjection == .adalnFuse, let a = blockAction {
            c = try c + a
            blockAction = nil
        }
        tokens = try runBlocks(tokens, conditioning: c, action: blockAction)
        // The output head is conditioned on the timestep only, even with adaln_fuse.
        let patches = try final_layer(tokens, conditioning: timestep.unsqueeze(2))
        return try unpatchify(patches)
    }

    /// The blocks on tokens `[B, F, P, D]` of a clip's first F frames with their conditioning
    /// `[B, F, D]`. With `caches` (empty), every temporal layer also keeps its keys and values:
    /// cached sampling's commit of those F frames in one pass.
    func runBlocks(_ tokens: Tensor, conditioning c: Tensor, action blockAction: Tensor?,
                   caches: [KeyValueCache]? = nil) throws -> Tensor {
        // Spatial blocks see x as [B, F, P, D], temporal ones as [B, P, F, D]; conditioning
        // per frame goes on the F axis and is shared across patches.
        let (spatialC, temporalC) = (try c.unsqueeze(2), try c.unsqueeze(1))
        let spatialAction = try blockAction?.unsqueeze(2), temporalAction = try blockAction?.unsqueeze(1)
        let frames = tokens.size(1)
        var tokens = tokens
        for i in stride(from: 0, to: blocks.count, by: 2) {
            tokens = try blocks[i](tokens, conditioning: spatialC, action: spatialAction, rope: spatialRoPE, causal: false)
            tokens = try tokens.transpose(1, 2).contiguous()
            if i == 0 { tokens = try tokens + (frames == config.numFrames ? temp_embed : temp_embed.narrow(dim: 1, start: 0, length: frames)) }
            tokens = try blocks[i + 1](tokens, conditioning: temporalC, action: temporalAction, rope: temporalRoPE,
                                       causal: config.causal, cache: caches?[i / 2], commit: caches != nil)
            tokens = try tokens.transpose(1, 2).contiguous()
        }
        return tokens
    }

    /// Validates shapes the way the reference would fail on them; returns (B, F).
    private func checkInputs(_ x: Tensor, _ t: Tensor, _ action: Tensor?) throws -> (Int, Int) {
        let s = config.inputSize
        guard x.rank == 5, x.size(2) == config.inChannels, x.size(3) == s, x.size(4) == s else {
            throw TorchError.invalidArgument("NanoWM expects x of shape [B, F, \(config.inChannels), \(s), \(s)], got \(x.shape)")
        }
        let (b, f) = (x.size(0), x.size(1))
        guard f == config.numFrames else {
            throw TorchError.invalidArgument("NanoWM was built for \(config.numFrames) frames (temp_embed), got \(f)")
        }
        guard t.shape == [b] || t.shape == [b, f] else {
            throw TorchError.invalidArgument("NanoWM expects t of shape [\(b)] or [\(b), \(f)], got \(t.shape)")
        }
        if let action, action_embedder != nil, action.shape != [b, f, config.actionDim!] {
            throw TorchError.invalidArgument("NanoWM expects action of shape [\(b), \(f), \(config.actionDim!)], got \(action.shape)")
        }
        // The reference crashes here: its temporal block then chunks the action modulation
        // along frames instead of features. Per-frame t with equal values is the working form.
        if action != nil, action_embedder != nil, t.rank == 1, f > 1,
           config.actionInjection == .adaln || config.actionInjection == .film {
            throw TorchError.invalidArgument(
                "NanoWM with \(config.actionInjection.rawValue) injection needs per-frame timesteps [B, F] "
                + "(the reference fails on per-clip t); pass t expanded to [\(b), \(f)]")
        }
        return (b, f)
    }

    /// t [B] or [B, F] → [B, F, D]. A per-clip embedding is shared by its frames; the
    /// modulation linears then still see one row per frame, as the reference's do, which keeps
    /// their results bit-identical to the reference (matmul rounding depends on row count).
    private func timestepEmbedding(_ t: Tensor, batch: Int, frames: Int) throws -> Tensor {
        if t.rank == 1 { return try t_embedder(t).unsqueeze(1).expand([batch, frames, config.hiddenSize]) }
        return try t_embedder(t.reshape([-1])).view([batch, frames, config.hiddenSize])
    }

    /// Action embeddings shifted one frame later: frame 0 gets zeros, frame k gets
    /// emb(a_{k−1}). The last action's embedding is dropped, but it is still computed: matmul
    /// rounding depends on the row count, and embedding all F rows keeps the reference's bits.
    func actionEmbedding(_ action: Tensor?, frames: Int) throws -> Tensor? {
        guard let embedder = action_embedder, let action else { return nil }
        return try embedder(action).narrow(dim: 1, start: 0, length: frames - 1).pad([0, 0, 1, 0])
    }

    /// [B, F, P, p·p·C] → [B, F, C, S, S]: token (h, w) holds its patch as (p, q, c).
    func unpatchify(_ x: Tensor) throws -> Tensor {
        let (b, f) = (x.size(0), x.size(1))
        let (g, p, c) = (config.gridSize, config.patchSize, config.outChannels)
        return try x.view([b, f, g, g, p, p, c]).permute([0, 1, 6, 2, 4, 3, 5])
            .reshape([b, f, c, g * p, g * p])
    }
}
