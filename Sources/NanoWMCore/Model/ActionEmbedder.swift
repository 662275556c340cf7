import SwiftTorch

/// Action vector → vector: Linear → SiLU → Linear, applied to each frame's action.
///
/// Keys: `mlp.0` [D, A], `mlp.2` [D, D], both with bias.
public final class ActionEmbedder: Module, Layer {
    public let mlp: Sequential

    public init(actionDim: Int, hiddenSize: Int) throws {
        mlp = Sequential(try Linear(actionDim, hiddenSize), SiLU(), try Linear(hiddenSize, hiddenSize))
        super.init()
        // The reference zeroes the output layer here so actions start with no effect, but the
        // model's xavier pass over every Linear runs afterwards and overwrites it; NanoWM's
        // initialiser repeats both steps, so fresh models match the reference's.
        let last = mlp.layers[2] as! Linear
        try Init.zeros_(last.weight)
        try Init.zeros_(last.bias!)
    }

    /// [B, F, A] → [B, F, D].
    public func callAsFunction(_ action: Tensor) throws -> Tensor { try mlp(action) }
}
