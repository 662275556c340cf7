import SwiftTorch

/// Options of a diffusion-forcing sampling run; defaults are upstream's.
public struct SamplingOptions: Sendable {
    public var mode: SchedulingMode = .sequential
    /// DDIM steps per frame; the process is respaced to this many timesteps.
    public var steps = 250
    public var eta = 0.0
    /// Re-noise the context to this fraction of the schedule (0 = off, upstream uses 0.02).
    public var historyStabilization = 0.02
    /// Stop once this many generated frames are clean (nil = all).
    public var framesToGenerate: Int?
    /// Sample frame by frame on a causal model's cached context (`FrameByFrame`) where the
    /// scheduling allows it (sequential); off, every step runs the whole window, as upstream.
    public var cachedCausal = true

    public init() {}
}

/// Samples frames with diffusion forcing: every frame has its own noise level, given by a
/// scheduling matrix; context frames stay fixed. Mirrors upstream's `dfot_sample`, including
/// the order of random draws (stabilisation noise, the initial noise, one draw per step), so a
/// seeded run reproduces upstream's samples.
public struct DiffusionForcingSampler {
    public let process: DiffusionProcess
    public let options: SamplingOptions

    /// `process` must be the sampling process (respaced to `options.steps` for Gaussian
    /// diffusion, as upstream builds it).
    public init(process: DiffusionProcess, options: SamplingOptions) {
        self.process = process
        self.options = options
    }

    /// - Parameters:
    ///   - shape: `[B, F, C, H, W]` of the whole clip, context included.
    ///   - context: `[B, ≥K, C, H, W]`; its first `contextFrames` frames are kept.
    ///   - frameByFrame: the same model's cached form (a causal model's), used instead of
    ///     `model` when `options.cachedCausal` is on and the scheduling is sequential.
    ///   - progress: called after each step with (done, total).
    public func sample(_ model: @escaping Denoiser, shape: [Int], context: Tensor?, contextFrames: Int,
                       frameByFrame: FrameByFrame? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> Tensor {
        try validate(shape: shape, context: context, contextFrames: contextFrames)
        let (batch, frames) = (shape[0], shape[1])
        var matrix = try schedulingMatrix(frames: frames, contextFrames: contextFrames, timesteps: process.numTimesteps,
                                          steps: options.steps, mode: options.mode)
        if let wanted = options.framesToGenerate {
            let column = contextFrames + wanted - 1
            if let firstClean = matrix.firstIndex(where: { $0[column] == -1 }) { matrix = Array(matrix[...firstClean]) }
        }
        var kept = context.map { try? $0.narrow(dim: 1, start: 0, length: contextFrames) } ?? nil
        if options.historyStabilization > 0, contextFrames > 0, let clean = kept {
            guard options.historyStabilization < 1 else { throw DiffusionError("history stabilisation must lie in [0, 1)") }
            let level = Int((options.historyStabilization * Double(process.numTimesteps - 1)).rounded(.toNearestOrEven))
            for r in matrix.indices { for f in 0..<contextFrames { matrix[r][f] = level } }
            let t = try Tensor.full([batch, contextFrames], .int(level), dtype: .int64, device: clean.device)
            kept = try process.qSample(clean, t: t, noise: try Tensor.randn(like: clean))
        }
        var clip = try Tensor.randn(shape, device: context?.device ?? .cpu)
        if let kept, contextFrames > 0 {
            clip = try Tensor.cat([kept, clip.narrow(dim: 1, start: contextFrames, length: frames - contextFrames)], dim: 1)
        }
        let device = clip.device
        let cached = options.cachedCausal && options.mode == .sequential ? frameByFrame.map { CachedSteps($0) } : nil
        for step in 0..<(matrix.count - 1) {
            let current = try levels(matrix[step], batch: batch, device: device)
            let next = try levels(matrix[step + 1], batch: batch, device: device)
            let stepModel = try cached?.denoiser(moving: matrix[step], to: matrix[step + 1]) ?? model
            let updated = try process.denoise(stepModel, x: clip, current: current, next: next, eta: options.eta).sample
            clip = contextFrames > 0
                ? try Tensor.cat([clip.narrow(dim: 1, start: 0, length: contextFrames),
                                  updated.narrow(dim: 1, start: contextFrames, length: frames - contextFrames)], dim: 1)
                : updated
            progress?(step + 1, matrix.count - 1)
        }
        return clip
    }

    /// Makes the random draws `sample` makes for `shape` with `contextFrames` context frames on
    /// `device`, and drops them, without a model: no model output decides what is drawn, so a
    /// stand-in that predicts zeros leaves the generator exactly where sampling would. A process
    /// that leaves a batch to another (an evaluation rank) stays in step this way.
    public func discardDraws(shape: [Int], contextFrames: Int, device: Device) throws {
        let context = try Tensor.zeros([shape[0], contextFrames] + Array(shape.dropFirst(2)), device: device)
        _ = try withNoGrad {
            try sample({ x, _ in try Tensor.zeros(like: x) }, shape: shape, context: context, contextFrames: contextFrames)
        }
    }

    private func levels(_ row: [Int], batch: Int, device: Device) throws -> Tensor {
        try Tensor(row.map(Int64.init), shape: [1, row.count]).expand([batch, row.count]).to(device)
    }

    private func validate(shape: [Int], context: Tensor?, contextFrames: Int) throws {
        guard shape.count == 5 else { throw DiffusionError("sample shape must be [B, F, C, H, W], got \(shape)") }
        guard contextFrames >= 0, contextFrames < shape[1] else {
            throw DiffusionError("\(contextFrames) context frames leave nothing to generate in a \(shape[1])-frame clip")
        }
        guard contextFrames == 0 || context != nil else { throw DiffusionError("\(contextFrames) context frames requested but no context given") }
        if let context, contextFrames > 0 {
            let expected = [shape[0], contextFrames] + Array(shape[2...])
            guard context.shape.count == 5, context.shape[1] >= contextFrames,
                  context.shape[0] == shape[0], Array(context.shape[2...]) == Array(shape[2...]) else {
                throw DiffusionError("context has shape \(context.shape); expected at least \(expected)")
            }
        }
        if let wanted = options.framesToGenerate, wanted < 1 || contextFrames + wanted > shape[1] {
            throw DiffusionError("cannot generate \(wanted) frames after \(contextFrames) context frames in a \(shape[1])-frame window")
        }
    }
}
