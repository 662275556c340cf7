import CTorchShim

/// Element types, numbered as libtorch numbers them (c10::ScalarType).
public enum DType: Int32, CaseIterable, CustomStringConvertible, Sendable {
    case uint8 = 0, int8 = 1, int16 = 2, int32 = 3, int64 = 4
    case float16 = 5, float32 = 6, float64 = 7, bool = 11, bfloat16 = 15

    public static let float = DType.float32
    public static let double = DType.float64
    public static let half = DType.float16
    public static let long = DType.int64

    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .float32, .float64, .bfloat16: return true
        default: return false
        }
    }

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .int16, .float16, .bfloat16: return 2
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    /// PyTorch's spelling, e.g. `torch.float32`.
    public var description: String {
        switch self {
        case .uint8: return "torch.uint8"
        case .int8: return "torch.int8"
        case .int16: return "torch.int16"
        case .int32: return "torch.int32"
        case .int64: return "torch.int64"
        case .float16: return "torch.float16"
        case .float32: return "torch.float32"
        case .float64: return "torch.float64"
        case .bool: return "torch.bool"
        case .bfloat16: return "torch.bfloat16"
        }
    }
}

/// Swift element types that map one-to-one onto a tensor dtype.
public protocol TensorScalar {
    static var dtype: DType { get }
}

extension Float: TensorScalar { public static var dtype: DType { .float32 } }
extension Double: TensorScalar { public static var dtype: DType { .float64 } }
extension Int64: TensorScalar { public static var dtype: DType { .int64 } }
extension Int: TensorScalar { public static var dtype: DType { .int64 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension Int8: TensorScalar { public static var dtype: DType { .int8 } }
extension Bool: TensorScalar { public static var dtype: DType { .bool } }

/// A number as PyTorch passes one to an operator: it keeps whether it was integral, which
/// decides type promotion (`int_tensor * 2` stays integral, `int_tensor * 2.0` does not).
public enum Scalar: Sendable, Equatable {
    case double(Double)
    case int(Int)
    case bool(Bool)

    var c: ctorch_scalar {
        switch self {
        case .double(let v): return ctorch_scalar(f: v, i: 0, kind: CTORCH_SCALAR_FLOAT)
        case .int(let v): return ctorch_scalar(f: 0, i: Int64(v), kind: CTORCH_SCALAR_INT)
        case .bool(let v): return ctorch_scalar(f: 0, i: v ? 1 : 0, kind: CTORCH_SCALAR_BOOL)
        }
    }

    init(_ c: ctorch_scalar) {
        switch c.kind {
        case CTORCH_SCALAR_INT: self = .int(Int(c.i))
        case CTORCH_SCALAR_BOOL: self = .bool(c.i != 0)
        default: self = .double(c.f)
        }
    }

    public var doubleValue: Double {
        switch self {
        case .double(let v): return v
        case .int(let v): return Double(v)
        case .bool(let v): return v ? 1 : 0
        }
    }
}

extension Scalar: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
