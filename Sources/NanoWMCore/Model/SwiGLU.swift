import SwiftTorch

/// Gated feed-forward: w3(silu(w1·x) ⊙ w2·x), no biases.
///
/// Keys: `w1`, `w2` [H, D], `w3` [D, H].
public final class SwiGLU: Module, Layer {
    public let w1: Linear
    public let w2: Linear
    public let w3: Linear

    public init(inFeatures: Int, hiddenFeatures: Int) throws {
        w1 = try Linear(inFeatures, hiddenFeatures, bias: false)
        w2 = try Linear(inFeatures, hiddenFeatures, bias: false)
        w3 = try Linear(hiddenFeatures, inFeatures, bias: false)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        // The hidden activations are the largest tensors in the model; without autograd the
        // gate is formed in w1's output buffer instead of two new ones.
        if isGradEnabled { return try w3(w1(x).silu() * w2(x)) }
        return try w3(w1(x).silu_().mul_(w2(x)))
    }
}
