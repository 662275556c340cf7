import CTorchShim

/// An n-dimensional array held by libtorch.
///
/// `Tensor` is a reference type, like PyTorch's: two variables can name the same storage,
/// and in-place operations (methods ending in `_`) are seen through both. The handle is
/// released when the last Swift reference goes away.
///
/// Invariant: `handle` is non-NULL and names a defined libtorch tensor. It is only ever a
/// handle the shim just produced from a libtorch result (an absent gradient comes back as
/// NULL and becomes `nil`, never a Tensor). The shim reports metadata queries on undefined
/// tensors as errors, but none can reach it from here, so the metadata properties below
/// stay non-throwing and stop the process with libtorch's message if the invariant breaks.
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

    public var rank: Int { Int(metadata(Int64(0)) { ctorch_tensor_dim(handle, $0) }) }

    public var shape: [Int] { dimensions { ctorch_tensor_sizes(handle, $0, $1) } }

    public var strides: [Int] { dimensions { ctorch_tensor_strides(handle, $0, $1) } }

    /// One value per dimension, filled by the shim into a buffer of `rank` slots.
    private func dimensions(_ fill: (UnsafeMutablePointer<Int64>, Int64) -> Int32) -> [Int] {
        let n = rank
        var status: Int32 = 0
        let values = [Int](unsafeUninitializedCapacity: n) { buffer, count in
            status = buffer.baseAddress!.withMemoryRebound(to: Int64.self, capacity: Swift.max(n, 1)) {
                fill($0, Int64(n))
            }
            count = status == 0 ? n : 0
        }
        requireMetadata(status)
        return values
    }

    /// Size of one dimension; negative indices count from the end.
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    public var count: Int { Int(metadata(Int64(0)) { ctorch_tensor_numel(handle, $0) }) }

    public var dtype: DType {
        let code = metadata(Int32(0)) { ctorch_tensor_dtype(handle, $0) }
        guard let dtype = DType(rawValue: code) else {
            preconditionFailure("libtorch returned element type \(code), which SwiftTorch does not know")
        }
        return dtype
    }

    public var isContiguous: Bool { metadata(false) { ctorch_tensor_is_contiguous(handle, $0) } }
    public var storageOffset: Int { Int(metadata(Int64(0)) { ctorch_tensor_storage_offset(handle, $0) }) }

    /// The address of the first element, for readers that fill a fresh CPU tensor in place.
    /// Throws for a tensor without storage, which libtorch refuses to expose.
    func unsafeDataPointer() throws -> UnsafeMutableRawPointer? {
        var pointer: UnsafeMutableRawPointer?
        try check(ctorch_tensor_data_ptr(handle, &pointer))
        return pointer
    }

    public var device: Device {
        var type: Int32 = 0
        var index: Int32 = 0
        requireMetadata(ctorch_tensor_device(handle, &type, &index))
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

/// Reads one fact about a live tensor (see `Tensor`'s invariant for why it cannot fail).
@inline(__always)
func metadata<T>(_ initial: T, _ read: (UnsafeMutablePointer<T>) -> Int32) -> T {
    var value = initial
    requireMetadata(read(&value))
    return value
}

/// Stops with libtorch's message when a query the `Tensor` invariant guarantees has failed:
/// carrying on with a made-up shape or dtype would corrupt results silently.
@inline(__always)
func requireMetadata(_ status: Int32) {
    if status != 0 { preconditionFailure("tensor metadata query failed: \(TorchError.lastShimError())") }
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
