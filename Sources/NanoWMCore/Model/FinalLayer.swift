import SwiftTorch

/// Output head: adaLN-modulated LayerNorm, then a linear map from each token to its patch's
/// p·p·C values.
///
/// Keys: `linear` [p²C, D], `adaLN_modulation.1` [2D, D], both with bias.
public final class FinalLayer: Module {
    public let norm_final: LayerNorm
    public let linear: Linear
    public let adaLN_modulation: Sequential

    public init(hiddenSize: Int, patchSize: Int, outChannels: Int) throws {
        norm_final = try LayerNorm(hiddenSize, eps: 1e-6, elementwiseAffine: false)
        linear = try Linear(hiddenSize, patchSize * patchSize * outChannels)
        adaLN_modulation = Sequential(SiLU(), try Linear(hiddenSize, 2 * hiddenSize))
        super.init()
    }

    /// x [..., N, D] with conditioning c broadcastable to x's shape (size 1 along N) →
    /// [..., N, p²C].
    func callAsFunction(_ x: Tensor, conditioning c: Tensor) throws -> Tensor {
        let params = try adaLN_modulation(c).chunk(2, dim: -1)
        return try linear(modulate(norm_final(x), shift: params[0], scale: params[1]))
    }
}
