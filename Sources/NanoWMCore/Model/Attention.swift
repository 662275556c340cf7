import SwiftTorch

/// Multi-head self-attention with QK-norm and optional RoPE, over PyTorch's fused SDPA.
///
/// Keys: `qkv` [3D, D] (+bias), `proj` [D, D] (+bias), `q_norm.weight`, `k_norm.weight` [D/h].
public final class Attention: Module {
    public let qkv: Linear
    public let proj: Linear
    public let q_norm: RMSNorm
    public let k_norm: RMSNorm
    public let numHeads: Int

    public init(dim: Int, numHeads: Int) throws {
        precondition(dim % numHeads == 0, "dim must be divisible by numHeads")
        self.numHeads = numHeads
        qkv = try Linear(dim, 3 * dim, bias: true)
        proj = try Linear(dim, dim)
        q_norm = try RMSNorm(dim / numHeads)
        k_norm = try RMSNorm(dim / numHeads)
        super.init()
    }

    /// x: [..., N, D] → [..., N, D]; attention runs over N, every leading index separately.
    /// Order as in the reference: project → split heads → QK-norm → RoPE → SDPA.
    /// With a `cache`, x holds the one element at `position` of a longer causal sequence
    /// (N = 1): its query attends to the cached keys and values of the positions before it
    /// and to its own, which `commit` appends to the cache. With an empty cache, x may hold the
    /// sequence's first N elements, which `commit` stores.
    func callAsFunction(_ x: Tensor, rope: RotaryEmbedding?, causal: Bool, cache: KeyValueCache? = nil,
                        position: Int = 0, commit: Bool = false) throws -> Tensor {
        let shape = x.shape
        let (n, dim) = (shape[shape.count - 2], shape[shape.count - 1])
        let headDim = dim / numHeads
        let tokens = try x.reshape([-1, n, dim])
        // [G, N, (q k v), heads, headDim]: q and k stay adjacent so they are normalised and
        // rotated together, and no head-first copy is made (SDPA takes strided views).
        let qkv = try self.qkv(tokens).view([tokens.size(0), n, 3, numHeads, headDim])
        let gains = try Tensor.stack([q_norm.weight, k_norm.weight]).unsqueeze(1)  // [2, 1, headDim]
        let normalized = try RMSNorm.normalize(qkv.narrow(dim: 2, start: 0, length: 2), eps: q_norm.eps)
        var qk = try isGradEnabled ? normalized * gains : normalized.mul_(gains)
        if let rope { qk = try rope.rotate(qk, start: position) }
        var key = try qk.select(dim: 2, index: 1), value = try qkv.select(dim: 2, index: 2)
        var extended = false
        if let cache {
            if let keys = cache.keys, let values = cache.values {
                key = try Tensor.cat([keys, key], dim: 1)
                value = try Tensor.cat([values, value], dim: 1)
                extended = true
            }
            if commit { (cache.keys, cache.values) = (try key.contiguous(), try value.contiguous()) }
        }
        // A query after cached keys is the sequence's last element: it may see every key, so
        // no mask. An empty cache holds a sequence's first elements, masked as without one.
        let out = try multiHeadAttention(query: qk.select(dim: 2, index: 0), key: key, value: value,
                                         causal: causal && !extended)
        return try proj(out).reshape(shape)
    }
}

/// One attention layer's keys and values `[G, L, heads, headDim]` (normalised and rotated)
/// for the positions committed so far, in cached causal sampling.
final class KeyValueCache {
    var keys: Tensor?
    var values: Tensor?
}

/// SDPA on [G, L, heads, headDim] inputs (any strides with a unit last stride), returning
/// [G, Lq, heads·headDim] with the heads fused back. The default 1/√headDim scale, no dropout.
func multiHeadAttention(query: Tensor, key: Tensor, value: Tensor, causal: Bool) throws -> Tensor {
    let (g, length) = (query.size(0), query.size(1))
    let out = try Tensor.scaledDotProductAttention(
        query: query.transpose(1, 2), key: key.transpose(1, 2), value: value.transpose(1, 2), isCausal: causal)
    return try out.transpose(1, 2).reshape([g, length, -1])
}
