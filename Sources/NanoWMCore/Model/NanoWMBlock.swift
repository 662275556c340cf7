import SwiftTorch

/// One transformer block with adaLN-Zero conditioning. The same class serves as a spatial
/// block (attention over the patches of a frame) and a temporal block (attention over the
/// frames of a patch); the model decides which axis is the sequence.
///
/// Keys: `attn.*`, `mlp.*`, `adaLN_modulation.1` [6D, D], plus per action injection
/// `action_adaLN_modulation.1` [6D, D] (adaln), `film_modulation.1` [2D, D] (film), or
/// `cross_attn.*` and `cross_gate` [D] (cross_attention). The norms have no weights.
public final class NanoWMBlock: Module {
    @Parameter public var cross_gate: Tensor?
    public let norm1: LayerNorm
    public let attn: Attention
    public let norm2: LayerNorm
    public let mlp: SwiGLU
    public let adaLN_modulation: Sequential
    public let action_adaLN_modulation: Sequential?
    public let film_modulation: Sequential?
    public let norm_cross: LayerNorm?
    public let cross_attn: CrossAttention?
    public let actionInjection: ActionInjection

    /// Submodules are made in the reference's order, so seeded construction draws the same
    /// random numbers.
    public init(hiddenSize: Int, numHeads: Int, mlpHiddenSize: Int, actionInjection: ActionInjection) throws {
        self.actionInjection = actionInjection
        norm1 = try LayerNorm(hiddenSize, eps: 1e-6, elementwiseAffine: false)
        attn = try Attention(dim: hiddenSize, numHeads: numHeads)
        norm2 = try LayerNorm(hiddenSize, eps: 1e-6, elementwiseAffine: false)
        mlp = try SwiGLU(inFeatures: hiddenSize, hiddenFeatures: mlpHiddenSize)
        adaLN_modulation = Sequential(SiLU(), try Linear(hiddenSize, 6 * hiddenSize))
        action_adaLN_modulation = actionInjection == .adaln ? Sequential(SiLU(), try Linear(hiddenSize, 6 * hiddenSize)) : nil
        film_modulation = actionInjection == .film ? Sequential(SiLU(), try Linear(hiddenSize, 2 * hiddenSize)) : nil
        let cross = actionInjection == .crossAttention
        norm_cross = cross ? try LayerNorm(hiddenSize, eps: 1e-6, elementwiseAffine: false) : nil
        cross_attn = cross ? try CrossAttention(dim: hiddenSize, numHeads: numHeads) : nil
        cross_gate = cross ? try Tensor.zeros([hiddenSize]) : nil
        super.init()
    }

    /// x: [B, M, N, D], attention over N. `c` (timestep conditioning) and `action` (action
    /// embedding, nil when there is none or it was fused into `c`) broadcast against x: size
    /// 1 along N for per-sequence conditioning, along M for per-token conditioning shared by
    /// every sequence. Computing them at that size, not repeated per token, keeps the
    /// modulation linears small.
    /// `cache`, `position` and `commit` pass to self-attention (cached causal sampling).
    func callAsFunction(_ x: Tensor, conditioning c: Tensor, action: Tensor?, rope: RotaryEmbedding?,
                        causal: Bool, cache: KeyValueCache? = nil, position: Int = 0, commit: Bool = false) throws -> Tensor {
        // shift/scale/gate for attention, then for the MLP. Without autograd the branches'
        // fresh outputs are modulated and gated in place (same arithmetic, fewer allocations).
        var mod = try adaLN_modulation(c).chunk(6, dim: -1)
        if let action, let actionModulation = action_adaLN_modulation {
            let extra = try actionModulation(action).chunk(6, dim: -1)
            mod = try zip(mod, extra).map { try $0 + $1 }
        }
        var x = x
        if actionInjection == .additive, let action { x = try x + action }
        x = try gatedResidual(x, gate: mod[2], attn(modulate(norm1(x), shift: mod[0], scale: mod[1]), rope: rope, causal: causal,
                                                    cache: cache, position: position, commit: commit))
        if let action, let film = film_modulation {
            let gammaBeta = try film(action).chunk(2, dim: -1)
            x = try (1.0 + gammaBeta[0]) * x + gammaBeta[1]
        }
        x = try gatedResidual(x, gate: mod[5], mlp(modulate(norm2(x), shift: mod[3], scale: mod[4])))
        if let action, let crossAttention = cross_attn, let norm = norm_cross, let gate = cross_gate {
            x = try gatedResidual(x, gate: gate, crossAttention(norm(x), context: action, causal: causal))
        }
        return x
    }
}

/// adaLN's affine modulation, x·(1 + scale) + shift, in the reference's operation order.
/// Consumes `x` (a fresh norm output): without autograd it is updated in place.
func modulate(_ x: Tensor, shift: Tensor, scale: Tensor) throws -> Tensor {
    if isGradEnabled { return try x * (1.0 + scale) + shift }
    return try x.mul_(1.0 + scale).add_(shift)
}

/// The gated residual x + gate·y. Consumes `y` (a fresh branch output): without autograd the
/// product reuses its memory.
func gatedResidual(_ x: Tensor, gate: Tensor, _ y: Tensor) throws -> Tensor {
    if isGradEnabled { return try x + gate * y }
    return try x + y.mul_(gate)
}
