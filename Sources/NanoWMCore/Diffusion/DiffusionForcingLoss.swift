import SwiftTorch

/// The reference's diffusion objective of a batch of latents `[B, F, C, h, w]`, as its
/// `training_step` and `validation_step` compute it: timesteps per frame (diffusion forcing) or
/// per clip from the configured sampler, then Gaussian noise of the latents' shape, then the
/// process's loss, averaged. Both draws come from `generator` (nil: the global one) in that order.
/// With mixed precision the model runs under bf16 autocast on an accelerator, as Lightning's
/// `bf16-mixed` runs both steps.
///
/// `share`/`shares`: the batch is block `share` of a global batch of `shares` equal blocks (a
/// data-parallel rank's part). The draws are made for the whole global batch, as one process
/// makes them, and this block is cut out, so they do not depend on the world size.
public struct DiffusionForcingLoss {
    public let process: DiffusionProcess
    public let timestepSampling: TimestepSampling
    public let diffusionSteps: Int
    public let perFrame: Bool
    public let mixedPrecision: Bool

    public init(process: DiffusionProcess, timestepSampling: TimestepSampling, diffusionSteps: Int, perFrame: Bool,
                mixedPrecision: Bool) {
        self.process = process
        self.timestepSampling = timestepSampling
        self.diffusionSteps = diffusionSteps
        self.perFrame = perFrame
        self.mixedPrecision = mixedPrecision
    }

    public func callAsFunction(_ model: Denoiser, latents x: Tensor, share: Int = 0, of shares: Int = 1,
                               generator: Generator? = nil) throws -> Tensor {
        let (t, noise) = try draws(latentShape: x.shape, share: share, of: shares, device: x.device, generator: generator)
        let terms = try withAutocast(.cuda, enabled: mixedPrecision && x.device != .cpu) {
            try process.trainingLosses(model, x0: x, t: t, noise: noise)
        }
        return try terms.loss.mean()
    }

    /// The draws a batch of latents of `latentShape` takes, made and dropped (an evaluation rank
    /// keeps the generator in step over batches another rank computes).
    public func discardDraws(latentShape: [Int], device: Device, generator: Generator? = nil) throws {
        _ = try draws(latentShape: latentShape, share: 0, of: 1, device: device, generator: generator)
    }

    private func draws(latentShape: [Int], share: Int, of shares: Int, device: Device,
                       generator: Generator?) throws -> (t: Tensor, noise: Tensor) {
        let b = latentShape[0]
        func block(_ global: Tensor) throws -> Tensor { shares == 1 ? global : try global.narrow(dim: 0, start: share * b, length: b) }
        let shape = perFrame ? [b * shares, latentShape[1]] : [b * shares]
        let t = try block(try timestepSampling.sample(shape, timesteps: diffusionSteps, device: device, generator: generator))
        let noise = try block(try Tensor.randn([b * shares] + Array(latentShape.dropFirst()), device: device, generator: generator))
        return (t, noise)
    }
}
