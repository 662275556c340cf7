/// Writes `PickleValue`s as a protocol-2 pickle that Python's `torch.load(weights_only=True)`
/// accepts: only builtin containers, `collections.OrderedDict` and `_rebuild_tensor_v2` over
/// persistent storage ids, as `torch.save` itself emits them.
struct Pickler {
    /// Gives a tensor its storage record: key and storage class name (`FloatStorage`, …).
    typealias StorageNamer = (TensorRef) throws -> (key: String, typeName: String, count: Int)

    private(set) var bytes: [UInt8] = [0x80, 2] // PROTO 2
    private let nameStorage: StorageNamer

    init(nameStorage: @escaping StorageNamer) { self.nameStorage = nameStorage }

    static func dump(_ value: PickleValue, nameStorage: @escaping StorageNamer) throws -> [UInt8] {
        var pickler = Pickler(nameStorage: nameStorage)
        try pickler.write(value)
        pickler.bytes.append(0x2e) // STOP
        return pickler.bytes
    }

    mutating func write(_ value: PickleValue) throws {
        switch value {
        case .none: bytes.append(0x4e)
        case .bool(let b): bytes.append(b ? 0x88 : 0x89)
        case .int(let v): writeInteger(v)
        case .bigInt(let text): // protocol-0 LONG keeps any width without a bignum type
            bytes.append(0x4c); bytes += Array(text.utf8); bytes += [0x4c, 0x0a]
        case .float(let v):
            bytes.append(0x47)
            bytes += withUnsafeBytes(of: v.bitPattern.bigEndian, Array.init)
        case .string(let s): writeString(s)
        case .bytes(let b):
            bytes.append(0x42); bytes.appendLittleEndian(UInt32(b.count)); bytes += b
        case .tuple(let items): try writeTuple(items)
        case .list(let list):
            bytes.append(0x5d) // EMPTY_LIST
            if !list.items.isEmpty {
                bytes.append(0x28)
                for item in list.items { try write(item) }
                bytes.append(0x65) // APPENDS
            }
        case .dict(let dict):
            if dict.isOrdered {
                writeGlobal("collections", "OrderedDict")
                bytes += [0x29, 0x52] // EMPTY_TUPLE, REDUCE
            } else {
                bytes.append(0x7d) // EMPTY_DICT
            }
            if dict.count > 0 {
                bytes.append(0x28)
                for (k, v) in dict.entries { try write(k); try write(v) }
                bytes.append(0x75) // SETITEMS
            }
        case .tensor(let tensor): try writeTensor(tensor)
        case .global(let module, let name): writeGlobal(module, name)
        case .storage:
            throw PickleError("a bare storage cannot be written; write the tensor that uses it")
        case .object(let object):
            throw PickleError("cannot write an instance of \(object.qualifiedName): only tensors, numbers, strings and containers are portable")
        }
    }

    private mutating func writeInteger(_ v: Int) {
        if v >= 0 && v < 256 {
            bytes += [0x4b, UInt8(v)] // BININT1
        } else if v >= 0 && v < 65536 {
            bytes.append(0x4d); bytes.appendLittleEndian(UInt16(v)) // BININT2
        } else if v >= Int(Int32.min) && v <= Int(Int32.max) {
            bytes.append(0x4a); bytes.appendLittleEndian(Int32(v)) // BININT
        } else { // LONG1: 8 bytes of two's complement always suffice for an Int
            bytes += [0x8a, 8]; bytes.appendLittleEndian(Int64(v))
        }
    }

    private mutating func writeString(_ s: String) {
        let utf8 = Array(s.utf8)
        bytes.append(0x58); bytes.appendLittleEndian(UInt32(utf8.count)); bytes += utf8 // BINUNICODE
    }

    private mutating func writeGlobal(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes += Array(module.utf8) + [0x0a] + Array(name.utf8) + [0x0a]
    }

    private mutating func writeTuple(_ items: [PickleValue]) throws {
        switch items.count {
        case 0: bytes.append(0x29)
        case 1...3:
            for item in items { try write(item) }
            bytes.append([0x85, 0x86, 0x87][items.count - 1])
        default:
            bytes.append(0x28)
            for item in items { try write(item) }
            bytes.append(0x74)
        }
    }

    /// `_rebuild_tensor_v2(('storage', torch.<X>Storage, key, 'cpu', numel), 0, size, stride,
    /// False, OrderedDict())`, exactly the shape `torch.save` produces.
    private mutating func writeTensor(_ tensor: TensorRef) throws {
        let storage = try nameStorage(tensor)
        writeGlobal("torch._utils", "_rebuild_tensor_v2")
        bytes.append(0x28) // MARK for the argument tuple
        bytes.append(0x28) // MARK for the persistent id
        writeString("storage")
        writeGlobal("torch", storage.typeName)
        writeString(storage.key)
        writeString("cpu")
        writeInteger(storage.count)
        bytes.append(0x74) // TUPLE
        bytes.append(0x51) // BINPERSID
        writeInteger(0)
        try writeTuple(tensor.shape.map { .int($0) })
        try writeTuple(contiguousStrides(tensor.shape).map { .int($0) })
        bytes.append(0x89) // requires_grad False
        writeGlobal("collections", "OrderedDict")
        bytes += [0x29, 0x52] // OrderedDict()
        bytes.append(0x74) // TUPLE
        bytes.append(0x52) // REDUCE
    }

    private func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in shape.indices.reversed() {
            strides[i] = running
            running *= Swift.max(shape[i], 1)
        }
        return strides
    }
}
