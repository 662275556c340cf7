import SwiftTorch
import NanoWMCore

/// The world model as the planner uses it (upstream's `DiffusionWorldModel`): observations are
/// encoded to flattened latents, and an action sequence is rolled out from one start latent by
/// chunked autoregression, `num_frames − n_context` new frames per diffusion-forcing window.
public struct PlanningWorldModel {
    public let model: NanoWMModel
    /// Encodes frames in [−1, 1]; nil when the start is given as latents already.
    public let codec: LatentCodec?
    /// The process and options of one window (upstream: the 1000-step process, the planning
    /// config's steps, η and history stabilisation).
    public let process: DiffusionProcess
    public let options: SamplingOptions
    public let contextFrames: Int

    public init(model: NanoWMModel, codec: LatentCodec?, process: DiffusionProcess, options: SamplingOptions,
                contextFrames: Int = 1) throws {
        guard contextFrames == 1 else {
            throw DiffusionError("planning rolls out from one start frame, so model.n_context_frames must be 1 (got \(contextFrames))")
        }
        guard contextFrames < model.config.numFrames else {
            throw DiffusionError("model.num_frames \(model.config.numFrames) leaves no frame to generate after \(contextFrames) context frame(s)")
        }
        (self.model, self.codec, self.process, self.options, self.contextFrames) = (model, codec, process, options, contextFrames)
    }

    /// New frames per window.
    public var framesPerChunk: Int { model.config.numFrames - contextFrames }

    /// Frames `[B, T, 3, H, W]` in [−1, 1] to latents `[B, T, C, h, w]` (upstream's `encode_obs`
    /// before flattening).
    public func encode(_ frames: Tensor) throws -> Tensor {
        guard let codec else { return frames }
        return try ClipCodec(codec).encode(frames)
    }

    /// Rolls `actions` `[N, H, A]` (normalised model actions) out from `start` `[N, 1, C, h, w]`;
    /// returns the latents `[N, 1 + H, C·h·w]`, the start first. Each window takes the actions
    /// from its offset on, zero-padded to the window (zero is the mean action in normalised
    /// space), and keeps only the frames the horizon still needs.
    public func rollout(start: Tensor, actions: Tensor) throws -> Tensor {
        let (count, horizon, window) = (actions.shape[0], actions.shape[1], model.config.numFrames)
        let sampler = DiffusionForcingSampler(process: process, options: options)
        var latents = [start]
        var last = start
        var offset = 0
        while offset < horizon {
            let kept = Swift.min(framesPerChunk, horizon - offset)
            let windowActions = try Self.paddedWindow(actions, offset: offset, length: window)
            let shape = [count, window] + Array(start.shape[2...])
            let chunk = try sampler.sample({ x, t in try model(x, t: t, action: windowActions) }, shape: shape,
                                           context: last, contextFrames: contextFrames,
                                           frameByFrame: try model.frameByFrame(actions: windowActions))
            let fresh = try chunk.narrow(dim: 1, start: contextFrames, length: kept)
            latents.append(fresh)
            last = try fresh.narrow(dim: 1, start: kept - 1, length: 1)
            offset += kept
        }
        let all = try Tensor.cat(latents, dim: 1)
        return try all.reshape([count, 1 + horizon, -1])
    }

    /// `actions[:, offset : offset + length]`, zero rows appended up to `length`.
    static func paddedWindow(_ actions: Tensor, offset: Int, length: Int) throws -> Tensor {
        let available = Swift.max(0, Swift.min(length, actions.shape[1] - offset))
        let head = try actions.narrow(dim: 1, start: offset, length: available)
        guard available < length else { return head }
        let zeros = try Tensor.zeros([actions.shape[0], length - available, actions.shape[2]], dtype: actions.dtype, device: actions.device)
        return try Tensor.cat([head, zeros], dim: 1)
    }
}
