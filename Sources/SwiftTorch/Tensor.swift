import CTorchShim

/// An n-dimensional array held by libtorch.
///
/// `Tensor` is a reference type, like PyTorch's: two variables can name the same storage,
/// and in-place operations (methods ending in `_`) are seen through both. The handle is
/// released when the last Swift reference goes away.
public final class Tensor {
    let handle: OpaquePointer

    /// Takes ownership of a handle the shim just handed out.
    init(owning handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        ctorch_tensor_free(handle)
    }

    // MARK: Metadata

    public var rank: Int { Int(ctorch_tensor_dim(handle)) }

    public var shape: [Int] {
        let n = rank
        return [Int](unsafeUninitializedCapacity: n) { buffer, count in
            buffer.baseAddress!.withMemoryRebound(to: Int64.self, capacity: Swift.max(n, 1)) {
                ctorch_tensor_sizes(handle, $0)
            }
            count = n
        }
    }

    public var strides: [Int] {
        let n = rank
        return [Int](unsafeUninitializedCapacity: n) { buffer, count in
            buffer.baseAddress!.withMemoryRebound(to: Int64.self, capacity: Swift.max(n, 1)) {
                ctorch_tensor_strides(handle, $0)
            }
            count = n
        }
    }

    /// Size of one dimension; negative indices count from the end.
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    public var count: Int { Int(ctorch_tensor_numel(handle)) }
    public var dtype: DType { DType(rawValue: Int32(ctorch_tensor_dtype(handle)))! }
    public var isContiguous: Bool { ctorch_tensor_is_contiguous(handle) }
    public var storageOffset: Int { Int(ctorch_tensor_storage_offset(handle)) }

    /// The address of the first element, for readers that fill a fresh CPU tensor in place.
    var unsafeDataPointer: UnsafeMutableRawPointer? { ctorch_tensor_data_ptr(handle) }

    public var device: Device {
        var type: Int32 = 0
        var index: Int32 = 0
        ctorch_tensor_device(handle, &type, &index)
        return Device(typeCode: type, index: index)
    }

    /// A second Swift handle to the same tensor (not a copy).
    public func alias() throws -> Tensor {
        try makeTensor { ctorch_tensor_alias(handle, $0) }
    }

    // MARK: Host arrays

    /// A CPU tensor holding `values` in row-major order.
    public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        guard shape.reduce(1, *) == values.count else {
            throw TorchError.invalidArgument("\(values.count) values cannot fill shape \(shape)")
        }
        var out: OpaquePointer?
        let status = values.withUnsafeBytes { bytes in
            withInt64Pointer(shape) { ctorch_tensor_from_bytes(bytes.baseAddress, $0, Int32(shape.count), T.dtype.rawValue, &out) }
        }
        try check(status)
        self.init(owning: out!)
    }

    /// A 0-dimensional CPU tensor.
    public convenience init<T: TensorScalar>(scalar value: T) throws {
        try self.init([value], shape: [])
    }

    /// Raw little-endian bytes of the given dtype and shape, copied into a new CPU tensor.
    public convenience init(bytes: UnsafeRawBufferPointer, dtype: DType, shape: [Int]) throws {
        let expected = shape.reduce(1, *) * dtype.byteSize
        guard bytes.count == expected else {
            throw TorchError.invalidArgument("\(bytes.count) bytes cannot fill a \(dtype) tensor of shape \(shape) (\(expected) bytes)")
        }
        var out: OpaquePointer?
        try check(withInt64Pointer(shape) { ctorch_tensor_from_bytes(bytes.baseAddress, $0, Int32(shape.count), dtype.rawValue, &out) })
        self.init(owning: out!)
    }

    /// The values in row-major order, converted to `T`'s dtype first if needed.
    public func toArray<T: TensorScalar>(_ type: T.Type = T.self) throws -> [T] {
        let source = dtype == T.dtype ? self : try to(T.dtype)
        let n = source.count
        var status: Int32 = 0
        let result = [T](unsafeUninitializedCapacity: n) { buffer, count in
            status = ctorch_tensor_to_bytes(source.handle, buffer.baseAddress, n * MemoryLayout<T>.stride)
            count = status == 0 ? n : 0
        }
        try check(status)
        return result
    }

    /// The tensor's bytes in row-major order, in its own dtype.
    public func bytes() throws -> [UInt8] {
        let n = count * dtype.byteSize
        var status: Int32 = 0
        let result = [UInt8](unsafeUninitializedCapacity: n) { buffer, count in
            status = ctorch_tensor_to_bytes(handle, buffer.baseAddress, n)
            count = status == 0 ? n : 0
        }
        try check(status)
        return result
    }

    /// The single value of a one-element tensor.
    public func item() throws -> Scalar {
        var out = ctorch_scalar()
        try check(ctorch_tensor_item(handle, &out))
        return Scalar(out)
    }

    public func item<T: TensorScalar>(_ type: T.Type) throws -> T {
        guard count == 1 else {
            throw TorchError.invalidArgument("item() needs a one-element tensor, got shape \(shape)")
        }
        return try toArray(T.self)[0]
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        "Tensor(shape: \(shape), dtype: \(dtype), device: \(device))"
    }
}

/// Passes Swift `Int`s to the shim as `int64_t` without copying (both are 64-bit here).
@inline(__always)
func withInt64Pointer<R>(_ values: [Int], _ body: (UnsafePointer<Int64>) -> R) -> R {
    values.withUnsafeBufferPointer { buffer in
        // An empty array may have no base address; the shim never reads past `count`.
        guard let base = buffer.baseAddress else {
            var dummy: Int64 = 0
            return body(&dummy)
        }
        return base.withMemoryRebound(to: Int64.self, capacity: buffer.count) { body($0) }
    }
}

/// Passes tensors to the shim as a C array of handles; keeps them alive for the call.
@inline(__always)
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafePointer<OpaquePointer?>) -> R) -> R {
    let handles: [OpaquePointer?] = tensors.map { $0.handle }
    return withExtendedLifetime(tensors) {
        handles.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
