import SwiftTorch

/// Root-mean-square normalisation over the last dimension with a learned gain (`weight`,
/// initialised to ones), used as QK-norm inside attention.
public final class RMSNorm: Module, Layer {
    @Parameter public var weight: Tensor
    public let eps: Double

    public init(_ dim: Int, eps: Double = 1e-6) throws {
        weight = try Tensor.ones([dim])
        self.eps = eps
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Self.normalize(x, eps: eps) * weight
    }

    /// x / rms(x) without the gain. The reference computes this in float32 and casts back
    /// before applying the gain; for float32 input libtorch's fused kernel does the same
    /// arithmetic in one pass.
    static func normalize(_ x: Tensor, eps: Double) throws -> Tensor {
        let dim = x.size(-1)
        if x.dtype == .float32 { return try x.rmsNorm([dim], eps: eps) }
        let wide = try x.to(.float32)
        let inverseRMS = try (wide.square().mean(dim: -1, keepdim: true) + eps).rsqrt()
        return try (wide * inverseRMS).to(x.dtype)
    }
}
