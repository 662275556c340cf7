import CTorchShim

/// Shape manipulation and indexing. Views share storage with their source, as in PyTorch.
extension Tensor {
    private func withShape(_ sizes: [Int], _ call: (UnsafePointer<Int64>, Int32, UnsafeMutablePointer<OpaquePointer?>) -> Int32) throws -> Tensor {
        try makeTensor { out in withInt64Pointer(sizes) { call($0, Int32(sizes.count), out) } }
    }

    public func reshape(_ shape: [Int]) throws -> Tensor { try withShape(shape) { ctorch_reshape(handle, $0, $1, $2) } }
    public func reshape(_ shape: Int...) throws -> Tensor { try reshape(shape) }
    public func view(_ shape: [Int]) throws -> Tensor { try withShape(shape) { ctorch_view(handle, $0, $1, $2) } }
    public func view(_ shape: Int...) throws -> Tensor { try view(shape) }
    /// A view of this tensor's storage with explicit sizes, strides and storage offset, all in
    /// elements (`torch.as_strided`).
    public func asStrided(_ shape: [Int], strides: [Int], storageOffset: Int = 0) throws -> Tensor {
        guard shape.count == strides.count else {
            throw TorchError.invalidArgument("asStrided: \(shape.count) sizes but \(strides.count) strides")
        }
        return try makeTensor { out in
            withInt64Pointer(shape) { sizes in
                withInt64Pointer(strides) { ctorch_as_strided(handle, sizes, $0, Int32(shape.count), Int64(storageOffset), out) }
            }
        }
    }
    public func expand(_ shape: [Int]) throws -> Tensor { try withShape(shape) { ctorch_expand(handle, $0, $1, $2) } }
    public func expand(_ shape: Int...) throws -> Tensor { try expand(shape) }
    public func expand(as other: Tensor) throws -> Tensor { try expand(other.shape) }
    public func repeating(_ counts: [Int]) throws -> Tensor { try withShape(counts) { ctorch_repeat(handle, $0, $1, $2) } }
    public func repeating(_ counts: Int...) throws -> Tensor { try repeating(counts) }
    public func permute(_ dims: [Int]) throws -> Tensor { try withShape(dims) { ctorch_permute(handle, $0, $1, $2) } }
    public func permute(_ dims: Int...) throws -> Tensor { try permute(dims) }
    public func flip(_ dims: [Int]) throws -> Tensor { try withShape(dims) { ctorch_flip(handle, $0, $1, $2) } }

    public func transpose(_ d0: Int, _ d1: Int) throws -> Tensor {
        try makeTensor { ctorch_transpose(handle, Int64(d0), Int64(d1), $0) }
    }

    /// The matrix transpose of a 2-D tensor (`t.T` for matrices).
    public func t() throws -> Tensor { try transpose(0, 1) }

    public func squeeze(_ dim: Int? = nil) throws -> Tensor {
        try makeTensor { ctorch_squeeze(handle, dim != nil, Int64(dim ?? 0), $0) }
    }

    public func unsqueeze(_ dim: Int) throws -> Tensor {
        try makeTensor { ctorch_unsqueeze(handle, Int64(dim), $0) }
    }

    public func flatten(start: Int = 0, end: Int = -1) throws -> Tensor {
        try makeTensor { ctorch_flatten(handle, Int64(start), Int64(end), $0) }
    }

    public func contiguous() throws -> Tensor { try makeTensor { ctorch_contiguous(handle, $0) } }
    public func clone() throws -> Tensor { try makeTensor { ctorch_clone(handle, $0) } }

    public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        try makeTensor { out in withHandles(tensors) { ctorch_cat($0, Int32(tensors.count), Int64(dim), out) } }
    }

    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        try makeTensor { out in withHandles(tensors) { ctorch_stack($0, Int32(tensors.count), Int64(dim), out) } }
    }

    /// Splits into `chunks` nearly equal pieces (fewer when the size does not allow).
    public func chunk(_ chunks: Int, dim: Int = 0) throws -> [Tensor] {
        guard chunks > 0 else { throw TorchError.invalidArgument("chunk expects a positive number of chunks, got \(chunks)") }
        var outs = [OpaquePointer?](repeating: nil, count: chunks)
        var produced: Int32 = 0
        try check(ctorch_chunk(handle, Int64(chunks), Int64(dim), &outs, Int32(chunks), &produced))
        return outs.prefix(Int(produced)).map { Tensor(owning: $0!) }
    }

    /// Splits into pieces of `size` along `dim` (the last may be smaller).
    public func split(_ size: Int, dim: Int = 0) throws -> [Tensor] {
        guard size > 0 else { throw TorchError.invalidArgument("split expects a positive size, got \(size)") }
        let total = self.size(dim)
        let sizes = stride(from: 0, to: Swift.max(total, 1), by: size).map { Swift.min(size, total - $0) }
        return try split(sizes: total == 0 ? [0] : sizes, dim: dim)
    }

    public func split(sizes: [Int], dim: Int = 0) throws -> [Tensor] {
        var outs = [OpaquePointer?](repeating: nil, count: sizes.count)
        try check(withInt64Pointer(sizes) { ctorch_split_with_sizes(handle, $0, Int32(sizes.count), Int64(dim), &outs) })
        return outs.map { Tensor(owning: $0!) }
    }

    /// `t[..., start:end:step, ...]` along `dim`; `nil` bounds are open, negatives count from the end.
    public func slice(dim: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) throws -> Tensor {
        try makeTensor { ctorch_slice(handle, Int64(dim), start != nil, Int64(start ?? 0), end != nil, Int64(end ?? 0), Int64(step), $0) }
    }

    /// `t[..., index, ...]` along `dim` (the dimension is removed).
    public func select(dim: Int, index: Int) throws -> Tensor {
        try makeTensor { ctorch_select(handle, Int64(dim), Int64(index), $0) }
    }

    public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
        try makeTensor { ctorch_narrow(handle, Int64(dim), Int64(start), Int64(length), $0) }
    }

    public func indexSelect(dim: Int, index: Tensor) throws -> Tensor {
        try makeTensor { ctorch_index_select(handle, Int64(dim), index.handle, $0) }
    }

    public func gather(dim: Int, index: Tensor) throws -> Tensor {
        try makeTensor { ctorch_gather(handle, Int64(dim), index.handle, $0) }
    }

    public func scatter(dim: Int, index: Tensor, source: Tensor) throws -> Tensor {
        try makeTensor { ctorch_scatter(handle, Int64(dim), index.handle, source.handle, $0) }
    }

    public func tril(_ diagonal: Int = 0) throws -> Tensor { try makeTensor { ctorch_triangle(CTORCH_TRIANGLE_LOWER, handle, Int64(diagonal), $0) } }
    public func triu(_ diagonal: Int = 0) throws -> Tensor { try makeTensor { ctorch_triangle(CTORCH_TRIANGLE_UPPER, handle, Int64(diagonal), $0) } }

    public func roll(shifts: [Int], dims: [Int]) throws -> Tensor {
        guard shifts.count == dims.count else { throw TorchError.invalidArgument("roll: \(shifts.count) shifts for \(dims.count) dims") }
        return try makeTensor { out in
            withInt64Pointer(shifts) { s in withInt64Pointer(dims) { d in ctorch_roll(handle, s, d, Int32(dims.count), out) } }
        }
    }

    public func repeatInterleave(_ repeats: Int, dim: Int? = nil) throws -> Tensor {
        try makeTensor { ctorch_repeat_interleave(handle, Int64(repeats), dim != nil, Int64(dim ?? 0), $0) }
    }

    /// Constant padding, pads listed from the last dimension backwards (`F.pad`).
    public func pad(_ pads: [Int], value: Double = 0) throws -> Tensor {
        try makeTensor { out in withInt64Pointer(pads) { ctorch_pad(handle, $0, Int32(pads.count), value, out) } }
    }

    /// `t[i]`: selects along the first dimension.
    public subscript(index: Int) -> Tensor {
        get throws { try select(dim: 0, index: index) }
    }

    /// `t[a..<b]`: slices along the first dimension.
    public subscript(range: Range<Int>) -> Tensor {
        get throws { try slice(dim: 0, start: range.lowerBound, end: range.upperBound) }
    }
}
