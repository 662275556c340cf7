/// Supplies the bytes of a storage on first use (a `torch.save` archive).
protocol StorageSource: AnyObject {
    func loadStorage(_ storage: StorageRef) throws -> Tensor
    func readStorage(_ storage: StorageRef, into tensor: Tensor) throws
}

/// One storage of a `torch.save` archive: a flat run of `count` elements under `key`.
/// Several tensors (views) may share one storage.
public final class StorageRef {
    public let key: String
    /// nil when the element type has no SwiftTorch dtype (complex, float8); see `typeName`.
    public let dtype: DType?
    public let typeName: String
    public let count: Int
    public let location: String
    let source: StorageSource?

    init(key: String, dtype: DType?, typeName: String, count: Int, location: String, source: StorageSource?) {
        self.key = key
        self.dtype = dtype
        self.typeName = typeName
        self.count = count
        self.location = location
        self.source = source
    }

    /// torch's storage class names (`torch.FloatStorage`, …) and the dtype each holds.
    static let dtypeByTypeName: [String: DType] = [
        "DoubleStorage": .float64, "FloatStorage": .float32, "HalfStorage": .float16,
        "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32,
        "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
        "UntypedStorage": .uint8,
    ]
    static let typeNameByDType: [DType: String] = [
        .float64: "DoubleStorage", .float32: "FloatStorage", .float16: "HalfStorage",
        .bfloat16: "BFloat16Storage", .int64: "LongStorage", .int32: "IntStorage",
        .int16: "ShortStorage", .int8: "CharStorage", .uint8: "ByteStorage", .bool: "BoolStorage",
    ]
}

/// A tensor in a checkpoint: its geometry over a storage, read only when asked for (so
/// `ckpt inspect` touches no weights), or a tensor in memory that is about to be written.
public final class TensorRef {
    public let shape: [Int]
    public let strides: [Int]
    public let storageOffset: Int
    public let requiresGrad: Bool
    public let storage: StorageRef?
    private var value: Tensor?

    /// A tensor in memory, for writing.
    public init(_ tensor: Tensor) {
        shape = tensor.shape
        strides = tensor.strides
        storageOffset = 0
        requiresGrad = false
        storage = nil
        value = tensor
    }

    /// A view over a stored storage; rejects geometry that would reach outside it.
    init(storage: StorageRef, offset: Int, shape: [Int], strides: [Int], requiresGrad: Bool) throws {
        guard shape.count == strides.count, offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw PickleError("tensor of size \(shape), stride \(strides), offset \(offset) is malformed")
        }
        // The furthest element the view touches must lie inside the storage.
        if !shape.contains(0) {
            var last = offset
            for (size, stride) in zip(shape, strides) {
                let (step, o1) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { throw PickleError("tensor of size \(shape) and stride \(strides) overflows") }
                last = sum
            }
            guard last < storage.count else {
                throw PickleError("tensor of size \(shape), stride \(strides), offset \(offset) reaches element \(last) of a \(storage.count)-element storage '\(storage.key)'")
            }
        }
        // Repeated strides (0, or overlapping) let a tiny storage declare a huge tensor, which
        // any copy would then materialise: beyond its storage, a view may hold at most
        // `largestView` bytes.
        let elements = shape.reduce(Optional(1)) { total, n in
            total.flatMap { let (product, overflow) = $0.multipliedReportingOverflow(by: n); return overflow ? nil : product }
        }
        let itemSize = storage.dtype?.byteSize ?? 1
        guard let elements, elements <= storage.count || elements <= Self.largestView / itemSize else {
            throw PickleError("tensor of size \(shape), stride \(strides) declares \(elements.map(String.init) ?? "more than 2⁶³") elements over a \(storage.count)-element storage '\(storage.key)'; refused (more than \(Self.largestView >> 20) MiB beyond what the file stores)")
        }
        self.storage = storage
        self.storageOffset = offset
        self.shape = shape
        self.strides = strides
        self.requiresGrad = requiresGrad
    }

    public var dtype: DType? { value?.dtype ?? storage?.dtype }
    /// Elements (checked against overflow when read from a file).
    public var count: Int { shape.reduce(1, *) }
    /// The most bytes a view may declare beyond its storage's own size.
    static let largestView = 256 << 20
    public var isLoaded: Bool { value != nil }

    /// The tensor, read from its storage on first use. Views of one storage share memory,
    /// as they did when saved.
    public func load() throws -> Tensor {
        if let value { return value }
        guard let storage, let source = storage.source else { throw PickleError("tensor has no data source") }
        let flat = try source.loadStorage(storage)
        let tensor = isWholeStorage ? try flat.view(shape) : try flat.asStrided(shape, strides: strides, storageOffset: storageOffset)
        value = tensor
        return tensor
    }

    /// Reads the values straight into `destination` (same dtype, shape, contiguous CPU),
    /// without an intermediate copy when this tensor covers its whole storage densely.
    public func read(into destination: Tensor) throws {
        guard destination.shape == shape else {
            throw PickleError("cannot read a tensor of shape \(shape) into one of shape \(destination.shape)")
        }
        if let storage, let source = storage.source, value == nil, isWholeStorage,
           destination.dtype == storage.dtype, destination.isContiguous, destination.device == .cpu {
            return try source.readStorage(storage, into: destination)
        }
        try withNoGrad { _ = try destination.copy_(try load()) }
    }

    /// Dense, row-major, offset 0 and exactly as long as its storage: the common case.
    var isWholeStorage: Bool {
        guard let storage, storageOffset == 0, count == storage.count else { return false }
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() {
            if size != 1 && stride != expected { return false }
            expected *= size
        }
        return true
    }
}

/// A pickle that cannot be read: malformed, or using something outside what `torch.save`
/// writes. Wrapped into a `CheckpointError` naming the file by the archive reader.
public struct PickleError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
