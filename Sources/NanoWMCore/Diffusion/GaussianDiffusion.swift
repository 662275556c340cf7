import SwiftTorch

/// Gaussian diffusion over a (possibly respaced) subset of the training timesteps, with ε, x₀
/// or v prediction, min-SNR loss weighting and the DDIM update used by diffusion forcing.
///
/// Tables are computed in float64 like upstream and cast to float32 when looked up; a
/// respaced process keeps the original timesteps' ᾱ and tells the model the original `t`.
public final class GaussianDiffusion: DiffusionProcess {
    public let target: PredictionTarget
    public let snrGamma: Double
    /// Original timestep of each step of this process.
    public let timestepMap: [Int]
    public let alphasCumprod: [Double]
    public var numTimesteps: Int { alphasCumprod.count }

    private let mapTensor: Tensor
    private let alphaBar: Tensor, sqrtAlphaBar: Tensor, sqrtOneMinusAlphaBar: Tensor
    private let sqrtRecipAlphaBar: Tensor, sqrtRecipM1AlphaBar: Tensor
    /// Every lookup table, for checks of where they live.
    var tables: [Tensor] { [mapTensor, alphaBar, sqrtAlphaBar, sqrtOneMinusAlphaBar, sqrtRecipAlphaBar, sqrtRecipM1AlphaBar] }

    /// - Parameters:
    ///   - keeping: the original timesteps to keep (all when nil), as `spacedTimesteps` gives.
    public init(betas: [Double], target: PredictionTarget, snrGamma: Double = 0, keeping: [Int]? = nil, device: Device = .cpu) throws {
        guard target != .flow else { throw DiffusionError("flow matching is not a Gaussian diffusion; use FlowMatching") }
        guard !betas.isEmpty, betas.allSatisfy({ $0 > 0 && $0 <= 1 }) else { throw DiffusionError("betas must lie in (0, 1]") }
        self.target = target
        self.snrGamma = snrGamma
        // Respacing as upstream: new betas from the kept ᾱ, then ᾱ recomputed from them.
        let original = Self.cumulativeProduct(betas)
        let kept = keeping ?? Array(betas.indices)
        var last = 1.0
        var spacedBetas: [Double] = []
        for i in kept {
            spacedBetas.append(1 - original[i] / last)
            last = original[i]
        }
        timestepMap = kept
        alphasCumprod = Self.cumulativeProduct(spacedBetas)
        let safe = alphasCumprod.map { Swift.min(Swift.max($0, 1e-8), 1) }
        func table(_ values: [Double]) throws -> Tensor {
            try Tensor(values, shape: [values.count]).to(.float32).to(device)
        }
        mapTensor = try Tensor(kept.map(Int64.init), shape: [kept.count]).to(device)
        alphaBar = try table(alphasCumprod)
        sqrtAlphaBar = try table(alphasCumprod.map { $0.squareRoot() })
        sqrtOneMinusAlphaBar = try table(alphasCumprod.map { (1 - $0).squareRoot() })
        sqrtRecipAlphaBar = try table(safe.map { (1 / $0).squareRoot() })
        sqrtRecipM1AlphaBar = try table(safe.map { (1 / $0 - 1).squareRoot() })
    }

    /// Upstream's `create_diffusion`: the named schedule, optional zero terminal SNR and
    /// respacing to `samplingSteps` (nil = every training step).
    public convenience init(schedule: NoiseSchedule, target: PredictionTarget, steps: Int = 1000, zeroTerminalSNR: Bool,
                            snrGamma: Double = 0, samplingSteps: Int? = nil, device: Device = .cpu) throws {
        var betas = schedule.betas(steps: steps)
        if zeroTerminalSNR { betas = NoiseSchedule.enforcingZeroTerminalSNR(betas) }
        try self.init(betas: betas, target: target, snrGamma: snrGamma,
                      keeping: try spacedTimesteps(steps, sectionCounts: [samplingSteps ?? steps]), device: device)
    }

    private static func cumulativeProduct(_ betas: [Double]) -> [Double] {
        var product = 1.0
        return betas.map { product *= 1 - $0; return product }
    }

    // MARK: - Lookups

    /// table[t] as float32, shaped to broadcast against a tensor of `rank` dimensions.
    private func extract(_ table: Tensor, _ t: Tensor, rank: Int) throws -> Tensor {
        try table.indexSelect(dim: 0, index: t.flatten()).reshape(t.shape).withTrailingDimensions(toRank: rank)
    }

    /// The model sees original timesteps, as upstream's wrapped model does.
    private func call(_ model: Denoiser, _ x: Tensor, _ t: Tensor) throws -> Tensor {
        let original = try mapTensor.indexSelect(dim: 0, index: t.flatten()).reshape(t.shape)
        return try model(x, original)
    }

    // MARK: - Forward process and training

    public func qSample(_ x0: Tensor, t: Tensor, noise: Tensor) throws -> Tensor {
        let rank = x0.shape.count
        return try extract(sqrtAlphaBar, t, rank: rank) * x0 + extract(sqrtOneMinusAlphaBar, t, rank: rank) * noise
    }

    public func trainingLosses(_ model: Denoiser, x0: Tensor, t: Tensor, noise: Tensor) throws -> LossTerms {
        let xt = try qSample(x0, t: t, noise: noise)
        let output = try call(model, xt, t)
        let goal: Tensor
        switch target {
        case .x: goal = x0
        case .epsilon: goal = noise
        case .v: goal = try extract(sqrtAlphaBar, t, rank: x0.shape.count) * noise - extract(sqrtOneMinusAlphaBar, t, rank: x0.shape.count) * x0
        case .flow: throw DiffusionError("unreachable: flow target in Gaussian diffusion")
        }
        let mse = try (goal - output).square().mean(dims: Array(1..<x0.shape.count))
        guard snrGamma > 0 else { return LossTerms(mse: mse, loss: mse) }
        return LossTerms(mse: mse, loss: try mse * minSNRWeight(t))
    }

    /// min(SNR, γ)/SNR per sample, averaged over frames when t is per frame (Hang et al. 2023).
    func minSNRWeight(_ t: Tensor) throws -> Tensor {
        let clamped = try t.clamp(min: 0)
        let alpha = try extract(alphaBar, clamped, rank: clamped.shape.count)
        let snr = try (alpha / (1.0 - alpha).clamp(min: 1e-8)).clamp(min: 1e-8)
        let weight = try snr.clamp(max: snrGamma) / snr
        return weight.shape.count > 1 ? try weight.mean(dim: -1) : weight
    }

    // MARK: - Sampling

    func predictX0(_ x: Tensor, t: Tensor, output: Tensor) throws -> Tensor {
        let rank = x.shape.count
        switch target {
        case .x: return output
        case .v: return try extract(sqrtAlphaBar, t, rank: rank) * x - extract(sqrtOneMinusAlphaBar, t, rank: rank) * output
        default: return try extract(sqrtRecipAlphaBar, t, rank: rank) * x - extract(sqrtRecipM1AlphaBar, t, rank: rank) * output
        }
    }

    /// The DDIM update between per-frame levels, as upstream's `dfot_ddim_sample` (no
    /// clipping of x₀). Draws one normal tensor like `x` every call, as upstream does even
    /// when η = 0, so seeded runs consume the generator identically.
    public func denoise(_ model: Denoiser, x: Tensor, current: Tensor, next: Tensor, eta: Double) throws -> DenoiseStep {
        let rank = x.shape.count
        let now = try current.clamp(min: 0)
        let x0 = try predictX0(x, t: now, output: try call(model, x, now))
        let eps = try (extract(sqrtRecipAlphaBar, now, rank: rank) * x - x0) / extract(sqrtRecipM1AlphaBar, now, rank: rank)
        let alpha = try extract(alphaBar, now, rank: rank)
        let becomesClean = try next.lt(0).withTrailingDimensions(toRank: rank).expand(as: x)
        var alphaNext = try extract(alphaBar, try next.clamp(min: 0), rank: rank).expand(as: x)
        alphaNext = try Tensor.where(becomesClean, Tensor.ones(like: alphaNext), alphaNext)
        var sigma = try eta * ((1.0 - alphaNext) / (1.0 - alpha)).sqrt() * (1.0 - alpha / alphaNext).sqrt()
        sigma = try Tensor.where(becomesClean, Tensor.zeros(like: sigma), sigma)
        let mean = try x0 * alphaNext.sqrt() + (1.0 - alphaNext - sigma.square()).sqrt() * eps
        let noise = try Tensor.randn(like: x)
        var sample = try mean + next.ge(0).to(.float32).withTrailingDimensions(toRank: rank) * sigma * noise
        let keep = try current.eq(next).logicalOr(current.lt(0)).withTrailingDimensions(toRank: rank).expand(as: x)
        sample = try Tensor.where(keep, x, sample)
        return DenoiseStep(sample: sample, predictedX0: x0)
    }
}
