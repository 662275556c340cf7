import CTorchShim

/// Reductions. `dims: nil` reduces over every dimension, as in PyTorch.
extension Tensor {
    private func reduce(_ op: ctorch_reduce_op, _ dims: [Int]?, _ keepdim: Bool) throws -> Tensor {
        let d = dims ?? []
        return try makeTensor { out in
            withInt64Pointer(d) { ctorch_reduce(op, handle, $0, dims == nil ? -1 : Int32(d.count), keepdim, out) }
        }
    }

    public func sum(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_SUM, dims, keepdim) }
    public func sum(dim: Int, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_SUM, [dim], keepdim) }
    public func mean(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_MEAN, dims, keepdim) }
    public func mean(dim: Int, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_MEAN, [dim], keepdim) }
    public func amax(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_AMAX, dims, keepdim) }
    public func amin(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_AMIN, dims, keepdim) }
    public func prod(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_PROD, dim.map { [$0] }, keepdim) }
    public func all(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_ALL, dims, keepdim) }
    public func any(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_ANY, dims, keepdim) }
    public func logsumexp(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor { try reduce(CTORCH_LOGSUMEXP, dims, keepdim) }

    /// The largest value over everything (`torch.max(t)`).
    public func max() throws -> Tensor { try reduce(CTORCH_AMAX, nil, false) }
    public func min() throws -> Tensor { try reduce(CTORCH_AMIN, nil, false) }

    /// Values and indices of the largest entries along one dimension (`torch.max(t, dim)`).
    public func max(dim: Int, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extreme(CTORCH_EXTREME_MAX, dim, keepdim)
    }

    public func min(dim: Int, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extreme(CTORCH_EXTREME_MIN, dim, keepdim)
    }

    private func extreme(_ which: ctorch_extreme, _ dim: Int, _ keepdim: Bool) throws -> (values: Tensor, indices: Tensor) {
        var values: OpaquePointer?
        var indices: OpaquePointer?
        try check(ctorch_extreme_dim(which, handle, Int64(dim), keepdim, &values, &indices))
        return (Tensor(owning: values!), Tensor(owning: indices!))
    }

    public func argmax(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try makeTensor { ctorch_arg_extreme(CTORCH_EXTREME_MAX, handle, dim != nil, Int64(dim ?? 0), keepdim, $0) }
    }

    public func argmin(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try makeTensor { ctorch_arg_extreme(CTORCH_EXTREME_MIN, handle, dim != nil, Int64(dim ?? 0), keepdim, $0) }
    }

    /// Variance with Bessel's correction by default (`correction: 1`), as `torch.var`.
    public func variance(dims: [Int]? = nil, correction: Double = 1, keepdim: Bool = false) throws -> Tensor {
        try spread(dims, correction, keepdim, sqrt: false)
    }

    public func std(dims: [Int]? = nil, correction: Double = 1, keepdim: Bool = false) throws -> Tensor {
        try spread(dims, correction, keepdim, sqrt: true)
    }

    private func spread(_ dims: [Int]?, _ correction: Double, _ keepdim: Bool, sqrt: Bool) throws -> Tensor {
        let d = dims ?? []
        return try makeTensor { out in
            withInt64Pointer(d) { ctorch_var(handle, $0, dims == nil ? -1 : Int32(d.count), correction, keepdim, sqrt, out) }
        }
    }

    /// The p-norm (`torch.linalg.vector_norm`; `torch.norm(t, p)` for vectors).
    public func norm(_ p: Double = 2, dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
        let d = dims ?? []
        return try makeTensor { out in
            withInt64Pointer(d) { ctorch_vector_norm(handle, p, $0, dims == nil ? -1 : Int32(d.count), keepdim, out) }
        }
    }

    public func cumsum(dim: Int) throws -> Tensor {
        try makeTensor { ctorch_cumsum(handle, Int64(dim), $0) }
    }
}
