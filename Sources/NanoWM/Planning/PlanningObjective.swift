import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// The planning cost between predicted latents `[N, T, D]` and the goal's `[N or 1, 1, D]`
/// (upstream's `create_objective_fn`): on the last frame, or on every frame weighted by
/// `base^i / Σ base^j`; by mean squared error or by token-wise cosine distance.
public struct PlanningObjective: Sendable {
    public enum Mode: String, Sendable { case last, all }
    public enum Metric: String, Sendable { case mse, cosine }

    public var mode = Mode.last
    public var metric = Metric.mse
    /// Weight base of `mode: all`.
    public var base = 2.0
    /// Channels per token for `cosine` (semantic latents flattened token by token).
    public var tokenDimension: Int?
    public var eps = 1e-6

    public init(mode: Mode = .last, metric: Metric = .mse, base: Double = 2.0, tokenDimension: Int? = nil) throws {
        (self.mode, self.metric, self.base, self.tokenDimension) = (mode, metric, base, tokenDimension)
        if metric == .cosine, (tokenDimension ?? 0) <= 0 {
            throw ConfigError(.invalidValue, "planning.objective.token_dim must be a positive channel count for visual_metric: cosine")
        }
    }

    /// One loss per sample, `[N]`.
    public func callAsFunction(_ predicted: Tensor, goal: Tensor) throws -> Tensor {
        let frames = predicted.shape[1]
        switch mode {
        case .last:
            let perFrame = try distance(try predicted.narrow(dim: 1, start: frames - 1, length: 1),
                                        try goal.narrow(dim: 1, start: goal.shape[1] - 1, length: 1))
            return try perFrame.mean(dim: 1)
        case .all:
            let perFrame = try distance(predicted, try goal.expand([goal.shape[0], frames, goal.shape[2]]))
            // Weights computed in float32 as upstream does (numpy float32, then divided).
            let powers = (0..<frames).map { Float(pow(base, Double($0))) }
            let total = powers.reduce(0, +)
            let weights = try Tensor(powers.map { $0 / total }, shape: [1, frames]).to(predicted.device)
            return try (perFrame * weights).mean(dim: 1)
        }
    }

    /// Per-frame distance `[N, T]`.
    private func distance(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        switch metric {
        case .mse:
            let diff = try a - b
            return try (diff * diff).mean(dim: 2)
        case .cosine:
            let width = tokenDimension ?? 1
            guard a.shape[2] % width == 0 else {
                throw DataError("planning.objective.token_dim \(width) does not divide the latent width \(a.shape[2])")
            }
            let shape = [a.shape[0], a.shape[1], a.shape[2] / width, width]
            let (x, y) = (try normalized(try a.reshape(shape)), try normalized(try b.reshape([b.shape[0], b.shape[1], shape[2], width])))
            let cosine = try (x * y).sum(dim: 3)
            return try (1.0 - cosine).mean(dim: 2)
        }
    }

    /// torch.nn.functional.normalize on the last dimension: x / max(‖x‖, eps).
    private func normalized(_ x: Tensor) throws -> Tensor {
        let norm = try (x * x).sum(dim: 3, keepdim: true).sqrt().clamp(min: eps)
        return try x / norm
    }
}
