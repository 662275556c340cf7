import SwiftTorch

/// Cached causal sampling on the model. With `causal` temporal attention, frame k's tokens at
/// every layer depend on frames 0…k only: spatial attention stays within a frame, the
/// conditioning is per frame, and temporal attention looks back. So the frames before k need
/// computing once, not at every denoising step of frame k: their keys and values in each
/// temporal layer are kept, and a step runs frame k's tokens alone. This is the uncached
/// forward's arithmetic reordered (matrix products over fewer rows), equal to it up to float32
/// rounding.
extension NanoWMModel {
    /// The cached form of this model for clips with `actions` `[B, F, A]` (nil without
    /// actions), or nil when the model is not causal (its frames see later frames).
    public func frameByFrame(actions: Tensor?) throws -> FrameByFrame? {
        guard config.causal else { return nil }
        // Embedded once, all F rows as the uncached forward embeds them, so the rows match.
        let embedded = try actionEmbedding(actions, frames: config.numFrames)
        let caches = (0..<(blocks.count / 2)).map { _ in KeyValueCache() }
        return FrameByFrame(
            predict: { frame, index, t in
                try self.forwardFrame(frame, index: index, t: t, actions: embedded, caches: caches, commit: false)!
            },
            commit: { frame, index, t in
                _ = try self.forwardFrame(frame, index: index, t: t, actions: embedded, caches: caches, commit: true)
            },
            commitFirst: { frames, t in
                try self.commitFirstFrames(frames, t: t, actions: embedded, caches: caches)
            })
    }

    /// Frames 0..<F `[B, F, C, S, S]` at timesteps `[B, F]`, committed in one pass: they run
    /// as in the whole-clip forward (causal), and every temporal layer keeps their keys and
    /// values. The output head is skipped.
    private func commitFirstFrames(_ frames: Tensor, t: Tensor, actions: Tensor?, caches: [KeyValueCache]) throws {
        let s = config.inputSize, d = config.hiddenSize, p = config.numPatches
        let (b, f) = (frames.size(0), frames.size(1))
        guard frames.rank == 5, frames.size(2) == config.inChannels, frames.size(3) == s, frames.size(4) == s,
              (1...config.numFrames).contains(f), t.shape == [b, f], caches.allSatisfy({ $0.keys == nil }) else {
            throw TorchError.invalidArgument("cached sampling: the first frames \(frames.shape) at \(t.shape) must come before any committed frame")
        }
        let tokens = try (pos_embed + x_embedder(frames.reshape([b * f, config.inChannels, s, s]))).view([b, f, p, d])
        var c = try t_embedder(t.reshape([-1])).view([b, f, d])
        var blockAction = try actions?.narrow(dim: 1, start: 0, length: f)
        if config.actionInjection == .adalnFuse, let a = blockAction {
            c = try c + a
            blockAction = nil
        }
        _ = try runBlocks(tokens, conditioning: c, action: blockAction, caches: caches)
    }

    /// Frame `index` `[B, 1, C, S, S]` at timesteps `[B, 1]`, attending in each temporal layer
    /// to the frames committed before it; returns its output `[B, 1, C, S, S]`, or, when
    /// committing, stores its keys and values and returns nil (the output head is skipped).
    private func forwardFrame(_ frame: Tensor, index k: Int, t: Tensor, actions: Tensor?, caches: [KeyValueCache],
                              commit: Bool) throws -> Tensor? {
        let s = config.inputSize, d = config.hiddenSize, p = config.numPatches
        guard frame.rank == 5, frame.size(1) == 1, frame.size(2) == config.inChannels, frame.size(3) == s, frame.size(4) == s,
              (0..<config.numFrames).contains(k), caches.allSatisfy({ ($0.keys?.size(1) ?? 0) == k }) else {
            throw TorchError.invalidArgument("cached sampling: frame \(k) of shape \(frame.shape) does not follow the \(caches.first?.keys?.size(1) ?? 0) committed frames")
        }
        let b = frame.size(0)
        var tokens = try (pos_embed + x_embedder(frame.reshape([b, config.inChannels, s, s]))).view([b, 1, p, d])
        let timestep = try t_embedder(t.reshape([-1])).view([b, 1, d])
        var c = timestep
        // Frame k's own action (emb(a_{k−1}), zeros for frame 0), and for cross-attention the
        // actions up to k, all a causal temporal layer lets frame k see.
        var own = try actions?.narrow(dim: 1, start: k, length: 1)
        var upToNow = try actions?.narrow(dim: 1, start: 0, length: k + 1)
        if config.actionInjection == .adalnFuse, let a = own {
            c = try c + a
            (own, upToNow) = (nil, nil)
        }
        let temporalAction = config.actionInjection == .crossAttention ? try upToNow?.unsqueeze(1) : try own?.unsqueeze(1)
        let (spatialC, temporalC, spatialAction) = (try c.unsqueeze(2), try c.unsqueeze(1), try own?.unsqueeze(2))
        for i in stride(from: 0, to: blocks.count, by: 2) {
            tokens = try blocks[i](tokens, conditioning: spatialC, action: spatialAction, rope: spatialRoPE, causal: false)
            tokens = try tokens.transpose(1, 2).contiguous()
            if i == 0 { tokens = try tokens + temp_embed.narrow(dim: 1, start: k, length: 1) }
            tokens = try blocks[i + 1](tokens, conditioning: temporalC, action: temporalAction, rope: temporalRoPE,
                                       causal: false, cache: caches[i / 2], position: k, commit: commit)
            tokens = try tokens.transpose(1, 2).contiguous()
        }
        if commit { return nil }
        return try unpatchify(try final_layer(tokens, conditioning: timestep.unsqueeze(2)))
    }
}
