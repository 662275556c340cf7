import SwiftTorch

/// Rectified-flow matching behind the same diffusion-forcing interface. Discrete t maps to
/// τ = 1 − (t+1)/T (τ = 1 clean, τ → 0 noise); x_τ = τ·x₀ + (1−τ)·ε, the network predicts
/// u = x₀ − ε, sampling takes Euler steps in τ. No min-SNR weighting (upstream ignores it).
public final class FlowMatching: DiffusionProcess {
    public let numTimesteps: Int

    public init(steps: Int = 1000) { numTimesteps = steps }

    private func tau(_ t: Tensor, rank: Int) throws -> Tensor {
        try (1.0 - (t.to(.float32) + 1.0) / Double(numTimesteps)).withTrailingDimensions(toRank: rank)
    }

    public func qSample(_ x0: Tensor, t: Tensor, noise: Tensor) throws -> Tensor {
        let level = try tau(t, rank: x0.shape.count)
        return try level * x0 + (1.0 - level) * noise
    }

    public func trainingLosses(_ model: Denoiser, x0: Tensor, t: Tensor, noise: Tensor) throws -> LossTerms {
        let xt = try qSample(x0, t: t, noise: noise)
        let goal = try x0 - noise
        let output = try model(xt, t)
        let mse = try (goal - output).square().mean(dims: Array(1..<x0.shape.count))
        return LossTerms(mse: mse, loss: mse)
    }

    public func denoise(_ model: Denoiser, x: Tensor, current: Tensor, next: Tensor, eta: Double) throws -> DenoiseStep {
        let rank = x.shape.count
        let now = try current.clamp(min: 0)
        let velocity = try model(x, now)
        let tauNow = try tau(now, rank: rank)
        let x0 = try x + (1.0 - tauNow) * velocity
        // Frames that become clean go all the way to τ = 1.
        let becomesClean = try next.lt(0).withTrailingDimensions(toRank: rank)
        let tauNext = try tau(try next.clamp(min: 0), rank: rank).maskedFill(becomesClean, .double(1))
        let stepped = try x + (tauNext - tauNow) * velocity
        let keep = try current.eq(next).logicalOr(current.lt(0)).withTrailingDimensions(toRank: rank)
        let sample = try Tensor.where(try keep.expand(as: x), x, stepped)
        return DenoiseStep(sample: sample, predictedX0: x0)
    }
}
