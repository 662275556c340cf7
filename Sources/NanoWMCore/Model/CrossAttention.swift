import SwiftTorch

/// Cross-attention from tokens (queries) to action tokens (keys and values), used by the
/// `cross_attention` action injection. No QK-norm and no RoPE, as in the reference.
///
/// Keys: `q` [D, D], `kv` [2D, D], `proj` [D, D], all with bias.
public final class CrossAttention: Module {
    public let q: Linear
    public let kv: Linear
    public let proj: Linear
    public let numHeads: Int

    public init(dim: Int, numHeads: Int) throws {
        precondition(dim % numHeads == 0, "dim must be divisible by numHeads")
        self.numHeads = numHeads
        q = try Linear(dim, dim, bias: true)
        kv = try Linear(dim, 2 * dim, bias: true)
        proj = try Linear(dim, dim)
        super.init()
    }

    /// x: [B, M, N, D] (attention over N); context: [B, M or 1, L, D], shared across M when
    /// its size there is 1. Causal (temporal blocks) needs L == N.
    func callAsFunction(_ x: Tensor, context: Tensor, causal: Bool) throws -> Tensor {
        let (b, m, n, dim) = (x.size(0), x.size(1), x.size(2), x.size(3))
        let length = context.size(2)
        let headDim = dim / numHeads
        if causal && length != n {
            throw TorchError.invalidArgument("causal cross-attention needs as many action tokens as queries (\(length) vs \(n))")
        }
        let query = try q(x).view([b * m, n, numHeads, headDim])
        // Project the (few) distinct action tokens first, then share them across M.
        let keysValues = try kv(context).expand([b, m, length, 2 * dim]).reshape([b * m, length, 2, numHeads, headDim])
        let out = try multiHeadAttention(query: query, key: keysValues.select(dim: 2, index: 0),
                                         value: keysValues.select(dim: 2, index: 1), causal: causal)
        return try proj(out).view([b, m, n, dim])
    }
}
