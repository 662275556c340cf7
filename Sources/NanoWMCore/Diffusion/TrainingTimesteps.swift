import SwiftTorch

/// How training draws noise levels: `[B, F]` per frame for diffusion forcing, `[B]` per clip
/// for full-sequence diffusion. Draws from the global generator as upstream does, so seeded
/// training runs match.
public enum TimestepSampling: Sendable, Equatable {
    case uniform
    /// t = ⌊sigmoid(N(mean, std²))·T⌋, concentrating training on middle noise levels.
    case logitNormal(mean: Double, std: Double)

    public init(name: String, mean: Double = 0, std: Double = 1) throws {
        switch name {
        case "uniform": self = .uniform
        case "logit_normal": self = .logitNormal(mean: mean, std: std)
        default: throw DiffusionError("unknown timestep sampling '\(name)'; use uniform or logit_normal")
        }
    }

    /// Draws from `generator`, or from the global generator as upstream does.
    public func sample(_ shape: [Int], timesteps: Int, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
        switch self {
        case .uniform:
            return try Tensor.randint(0, timesteps, shape, device: device, generator: generator)
        case .logitNormal(let mean, let std):
            let u = try Tensor.randn(shape, device: device, generator: generator) * std + mean
            // trunc(min(x, T−1)) = min(trunc(x), T−1) for x ≥ 0: upstream's .long().clamp(max=T−1).
            return try (u.sigmoid() * Double(timesteps)).to(.int64).clamp(max: Double(timesteps - 1))
        }
    }
}
