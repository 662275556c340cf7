import CTorchShim

/// A value a TorchScript method takes or returns (c10::IValue): what Python passes to and gets
/// from a scripted module, as a Swift enum. Containers hold values, so any nesting works.
public indirect enum ScriptValue {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case tensor(Tensor)
    case tuple([ScriptValue])
    case list([ScriptValue])
    /// Keys in insertion order, as a TorchScript dict keeps them.
    case dict([(key: ScriptValue, value: ScriptValue)])

    // MARK: Reading

    /// The tensor this value holds; throws naming what it holds instead.
    public func tensor() throws -> Tensor {
        guard case .tensor(let t) = self else { throw mismatch("a tensor") }
        return t
    }

    /// The elements of a tuple or a list.
    public func elements() throws -> [ScriptValue] {
        switch self {
        case .tuple(let items), .list(let items): return items
        default: throw mismatch("a tuple or list")
        }
    }

    /// The tensors of a tuple or list of tensors.
    public func tensors() throws -> [Tensor] { try elements().map { try $0.tensor() } }

    /// A dict with string keys and tensor values, e.g. named outputs.
    public func tensorDictionary() throws -> [String: Tensor] {
        guard case .dict(let entries) = self else { throw mismatch("a dict") }
        var out: [String: Tensor] = [:]
        for (key, value) in entries {
            guard case .string(let name) = key else { throw mismatch("a dict with string keys") }
            out[name] = try value.tensor()
        }
        return out
    }

    /// A number (int, float or bool) as a Double.
    public func number() throws -> Double {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .bool(let b): return b ? 1 : 0
        default: throw mismatch("a number")
        }
    }

    public var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .tensor(let t): return "Tensor\(t.shape)"
        case .tuple(let items): return "tuple of \(items.count)"
        case .list(let items): return "list of \(items.count)"
        case .dict(let entries): return "dict of \(entries.count)"
        }
    }

    private func mismatch(_ expected: String) -> TorchError {
        .invalidArgument("TorchScript value: expected \(expected), got \(kindName)")
    }

    // MARK: Crossing the shim

    /// A new C value (owned by the caller) for this value, built depth first.
    func makeHandle() throws -> OpaquePointer {
        var out: OpaquePointer?
        switch self {
        case .none: try check(ctorch_value_none(&out))
        case .bool(let b): try check(ctorch_value_bool(b, &out))
        case .int(let i): try check(ctorch_value_int(Int64(i), &out))
        case .double(let d): try check(ctorch_value_double(d, &out))
        case .string(let s): try check(ctorch_value_string(s, &out))
        case .tensor(let t): try check(ctorch_value_tensor(t.handle, &out))
        case .tuple(let items), .list(let items):
            let kind: ctorch_value_kind = { if case .tuple = self { return CTORCH_VALUE_TUPLE }; return CTORCH_VALUE_LIST }()
            try Self.withHandles(items) { handles in
                try check(ctorch_value_sequence(kind, handles, Int32(handles.count), &out))
            }
        case .dict(let entries):
            try Self.withHandles(entries.map(\.key)) { keys in
                try Self.withHandles(entries.map(\.value)) { values in
                    try check(ctorch_value_dict(keys, values, Int32(keys.count), &out))
                }
            }
        }
        return out!
    }

    /// Runs `body` with C handles for `values`, freed afterwards.
    static func withHandles<R>(_ values: [ScriptValue], _ body: ([OpaquePointer?]) throws -> R) throws -> R {
        var handles: [OpaquePointer?] = []
        defer { handles.forEach { ctorch_value_free($0) } }
        for value in values { handles.append(try value.makeHandle()) }
        return try body(handles)
    }

    /// Reads a C value (not consumed).
    init(handle: OpaquePointer) throws {
        var kind = CTORCH_VALUE_OTHER
        try check(ctorch_value_kind_of(handle, &kind))
        switch kind {
        case CTORCH_VALUE_NONE: self = .none
        case CTORCH_VALUE_BOOL:
            var b = false
            try check(ctorch_value_to_bool(handle, &b))
            self = .bool(b)
        case CTORCH_VALUE_INT:
            var i: Int64 = 0
            try check(ctorch_value_to_int(handle, &i))
            self = .int(Int(i))
        case CTORCH_VALUE_DOUBLE:
            var d = 0.0
            try check(ctorch_value_to_double(handle, &d))
            self = .double(d)
        case CTORCH_VALUE_STRING: self = .string(try Self.string(handle))
        case CTORCH_VALUE_TENSOR: self = .tensor(try makeTensor { ctorch_value_to_tensor(handle, $0) })
        case CTORCH_VALUE_TUPLE: self = .tuple(try Self.children(handle, keys: false))
        case CTORCH_VALUE_LIST: self = .list(try Self.children(handle, keys: false))
        case CTORCH_VALUE_DICT:
            let keys = try Self.children(handle, keys: true), values = try Self.children(handle, keys: false)
            self = .dict(Array(zip(keys, values)).map { (key: $0.0, value: $0.1) })
        default:
            throw TorchError.invalidArgument("TorchScript returned a value SwiftTorch cannot read (an object, future or other non-data value)")
        }
    }

    private static func string(_ handle: OpaquePointer) throws -> String {
        var length = 0
        try check(ctorch_value_to_string(handle, nil, 0, &length))
        var bytes = [UInt8](repeating: 0, count: length)
        try bytes.withUnsafeMutableBytes { buffer in
            try check(ctorch_value_to_string(handle, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), length, &length))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func children(_ handle: OpaquePointer, keys: Bool) throws -> [ScriptValue] {
        var count: Int64 = 0
        try check(ctorch_value_count(handle, &count))
        return try (0..<count).map { i in
            var child: OpaquePointer?
            try check(ctorch_value_element(handle, i, keys, &child))
            defer { ctorch_value_free(child) }
            return try ScriptValue(handle: child!)
        }
    }
}

extension ScriptValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
                       ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral {
    public init(nilLiteral: ()) { self = .none }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: ScriptValue...) { self = .list(elements) }
}
