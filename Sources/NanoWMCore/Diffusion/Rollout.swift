import SwiftTorch

/// Long-horizon generation beyond the training window: the model (trained on `window`
/// frames) repeatedly sees the last `history` frames and generates one new frame, with the
/// actions of its window, exactly as upstream's rollout script does.
public struct SlidingWindowRollout {
    public let sampler: DiffusionForcingSampler
    /// Frames the model takes at once (its `num_frames`).
    public let window: Int
    /// Context frames kept from what has been generated so far.
    public let history: Int

    public init(process: DiffusionProcess, options: SamplingOptions, window: Int, history: Int) throws {
        guard history >= 1, history < window else {
            throw DiffusionError("history (\(history)) must be at least 1 and less than the model's \(window)-frame window")
        }
        var perWindow = options
        perWindow.framesToGenerate = 1
        sampler = DiffusionForcingSampler(process: process, options: perWindow)
        self.window = window
        self.history = history
    }

    /// - Parameters:
    ///   - model: called with the window's frames, timesteps and actions `[B, window, A]` (nil
    ///     without actions).
    ///   - context: `[B, ≥history, C, H, W]` first frames.
    ///   - actions: raw actions `[B, N, d]`, `frameInterval` per frame (the model's action is
    ///     `frameInterval·d` wide); the last raw action is repeated past the end.
    ///   - length: frames in the result, context included.
    ///   - frameByFrame: the model's cached form for a window's actions (see
    ///     `DiffusionForcingSampler.sample`); each window starts a fresh one, since its
    ///     context is re-noised and shifted.
    public func generate(_ model: @escaping (Tensor, Tensor, Tensor?) throws -> Tensor, context: Tensor, actions: Tensor?,
                         frameInterval: Int = 1, length: Int, frameByFrame: ((Tensor?) throws -> FrameByFrame?)? = nil,
                         progress: ((Int, Int) -> Void)? = nil) throws -> Tensor {
        guard context.shape.count == 5, context.shape[1] >= history else {
            throw DiffusionError("rollout context has shape \(context.shape); it needs at least \(history) frames [B, F, C, H, W]")
        }
        guard length > history else { throw DiffusionError("rollout length \(length) must exceed the \(history) history frames") }
        var generated = try context.narrow(dim: 1, start: 0, length: history)
        let shape = [context.shape[0], window] + Array(context.shape[2...])
        for frame in history..<length {
            let windowActions = try actions.map { try self.windowActions($0, start: frame - history, frameInterval: frameInterval) }
            let recent = try generated.narrow(dim: 1, start: generated.shape[1] - history, length: history)
            let denoiser: Denoiser = { x, t in try model(x, t, windowActions) }
            let sample = try sampler.sample(denoiser, shape: shape, context: recent, contextFrames: history,
                                            frameByFrame: try frameByFrame?(windowActions))
            generated = try Tensor.cat([generated, sample.narrow(dim: 1, start: history, length: 1)], dim: 1)
            progress?(frame - history + 1, length - history)
        }
        return generated
    }

    /// Actions of frames start..<start+window: their raw actions, padded with the last raw
    /// action past the end (as upstream pads), then grouped `frameInterval` per frame.
    private func windowActions(_ raw: Tensor, start: Int, frameInterval: Int) throws -> Tensor {
        let (batch, available, width) = (raw.shape[0], raw.shape[1], raw.shape[2])
        let begin = start * frameInterval, end = (start + window) * frameInterval
        var span: Tensor
        if end <= available {
            span = try raw.narrow(dim: 1, start: begin, length: end - begin)
        } else {
            let head = try raw.narrow(dim: 1, start: Swift.min(begin, available), length: Swift.max(available - begin, 0))
            let last = try raw.narrow(dim: 1, start: available - 1, length: 1).expand([batch, end - Swift.max(available, begin), width])
            span = try Tensor.cat([head, last], dim: 1)
        }
        return try span.reshape([batch, window, frameInterval * width])
    }
}
