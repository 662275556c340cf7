import Foundation

/// NumPy values inside pickles (`pickle.dump` of an array, or `torch.save` of a dataset that
/// holds arrays): `ndarray`s rebuilt by `_reconstruct` + BUILD (protocols ≤ 4) or
/// `_frombuffer` (protocol 5), and NumPy scalars. The unpickler leaves them as inert objects;
/// this reads their dtype, shape and raw bytes into tensors without running anything.
extension PickleValue {
    /// The value as a tensor: a torch tensor, a NumPy array or scalar, or a (nested) list or
    /// tuple of numbers (int64 when all are integers, else float64, as `torch.tensor` makes
    /// them). Nil for anything else.
    public func numericTensor() throws -> Tensor? { try numericTensor(depth: 0) }

    /// Nested lists deeper than any array a dataset stores are refused rather than recursed into.
    private func numericTensor(depth: Int) throws -> Tensor? {
        guard depth < 32 else { throw PickleError("lists nested more than 32 deep are not an array") }
        switch self {
        case .tensor(let ref): return try ref.load()
        case .object(let object): return try NumpyArrays.tensor(of: object)
        case .int(let v): return try Tensor(scalar: Int64(v))
        case .float(let v): return try Tensor(scalar: v)
        case .list, .tuple:
            let parts = try (items ?? []).map { item -> Tensor in
                guard let tensor = try item.numericTensor(depth: depth + 1) else { throw PickleError("a list holds a \(Callables.kind(of: item)), not a number") }
                return tensor
            }
            guard !parts.isEmpty else { return try Tensor.empty([0], dtype: .int64) }
            let dtype: DType = parts.allSatisfy { !$0.dtype.isFloatingPoint } ? .int64 : .float64
            return try Tensor.stack(try parts.map { try $0.to(dtype) })
        default: return nil
        }
    }
}

enum NumpyArrays {
    /// Module names NumPy 1.x and 2.x write.
    static let cores = ["numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric", "numpy._core.numeric"]

    static func tensor(of object: PickleObject) throws -> Tensor? {
        guard cores.contains(object.module) else { return nil }
        switch object.name {
        case "_reconstruct":
            // BUILD state: (version, shape, dtype, is_fortran, raw bytes)
            guard let state = object.state?.items, state.count == 5, let shape = state[1].items?.map(\.int),
                  !shape.contains(nil), case .object(let dtype) = state[2], case .bytes(let raw) = state[4] else {
                throw PickleError("a NumPy array record is malformed (or holds Python objects)")
            }
            return try array(raw, dtype: dtype, shape: shape.map { $0! }, fortran: (state[3].int ?? 0) != 0)
        case "_frombuffer":
            let args = object.arguments
            guard args.count >= 3, case .bytes(let raw) = args[0], case .object(let dtype) = args[1],
                  let shape = args[2].items?.map(\.int), !shape.contains(nil) else {
                throw PickleError("a NumPy buffer record is malformed")
            }
            return try array(raw, dtype: dtype, shape: shape.map { $0! }, fortran: args.count > 3 && args[3].string == "F")
        case "scalar":
            guard object.arguments.count == 2, case .object(let dtype) = object.arguments[0],
                  case .bytes(let raw) = object.arguments[1] else { throw PickleError("a NumPy scalar record is malformed") }
            return try array(raw, dtype: dtype, shape: [], fortran: false)
        default:
            return nil
        }
    }

    /// `numpy.dtype(code, align, copy)` with BUILD state `(3, byteorder, …)`.
    static func dtype(_ object: PickleObject) throws -> DType {
        guard object.name == "dtype", let code = object.arguments.first?.string else {
            throw PickleError("a NumPy array's dtype record is malformed")
        }
        if let order = object.state?.items?.dropFirst().first?.string, order == ">" {
            throw PickleError("big-endian NumPy arrays (dtype \(code)) are not supported; save with a little-endian dtype")
        }
        let table: [String: DType] = ["b1": .bool, "u1": .uint8, "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
                                      "f2": .float16, "f4": .float32, "f8": .float64]
        guard let dtype = table[code] else {
            throw PickleError("NumPy dtype '\(code)' is not supported (use bool, uint8, int8…int64 or float16…float64)")
        }
        return dtype
    }

    static func array(_ raw: [UInt8], dtype object: PickleObject, shape: [Int], fortran: Bool) throws -> Tensor {
        let dtype = try dtype(object)
        guard shape.allSatisfy({ $0 >= 0 }) else { throw PickleError("a NumPy array has a negative dimension \(shape)") }
        var bytes = dtype.byteSize
        for size in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: size)
            guard !overflow else { throw PickleError("a NumPy array's shape \(shape) is too large") }
            bytes = product
        }
        guard bytes == raw.count else {
            throw PickleError("a NumPy array of shape \(shape) and dtype \(dtype) needs \(bytes) bytes but holds \(raw.count)")
        }
        let stored = fortran ? shape.reversed() : shape
        let tensor = try raw.withUnsafeBytes { try Tensor(bytes: $0, dtype: dtype, shape: stored) }
        return fortran && shape.count > 1 ? try tensor.permute(Array((0..<shape.count).reversed())).contiguous() : tensor
    }
}

/// A plain pickle file (`pickle.dump`, not a `torch.save` archive), read without executing it.
public enum PickleFile {
    public static func load(_ path: String) throws -> PickleValue {
        let file = try ReadOnlyFile(path)
        do {
            return try Unpickler.load(try file.bytes(at: 0, count: file.size))
        } catch let error as PickleError {
            throw CheckpointError(path, error.description)
        }
    }
}
