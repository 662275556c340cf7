import Foundation
import SwiftTorch

/// Diffusion timestep → vector: sinusoidal features, then Linear → SiLU → Linear.
///
/// Keys: `mlp.0` [D, 256], `mlp.2` [D, D], both with bias.
public final class TimestepEmbedder: Module, Layer {
    public let mlp: Sequential
    public let frequencyEmbeddingSize: Int

    public init(hiddenSize: Int, frequencyEmbeddingSize: Int = 256) throws {
        self.frequencyEmbeddingSize = frequencyEmbeddingSize
        mlp = Sequential(try Linear(frequencyEmbeddingSize, hiddenSize), SiLU(), try Linear(hiddenSize, hiddenSize))
        super.init()
    }

    /// [cos | sin] of t·exp(−ln(maxPeriod)·i/half), i < half: t [N] (may be fractional) →
    /// [N, dim] float32; an odd `dim` gets one trailing zero column.
    public static func sinusoidalFeatures(_ t: Tensor, dim: Int, maxPeriod: Double = 10000) throws -> Tensor {
        let half = dim / 2
        let freqs = try (Tensor.arange(0, .int(half), dtype: .float32) * -Foundation.log(maxPeriod) / Double(half))
            .exp().to(t.device)
        let args = try t.to(.float32).unsqueeze(1) * freqs.unsqueeze(0)
        let features = try Tensor.cat([args.cos(), args.sin()], dim: -1)
        return dim % 2 == 0 ? features : try features.pad([0, 1])
    }

    /// t [N] → [N, D]. The features are computed in float32, as the reference computes them,
    /// and enter a network held in another dtype (a float64 copy, for rounding bounds) in its own.
    public func callAsFunction(_ t: Tensor) throws -> Tensor {
        let features = try Self.sinusoidalFeatures(t, dim: frequencyEmbeddingSize)
        let dtype = (mlp.layers.first as? Linear)?.weight.dtype ?? features.dtype
        return try mlp(dtype == features.dtype ? features : try features.to(dtype))
    }
}
