/// What REDUCE / NEWOBJ / BUILD mean for the globals `torch.save` writes. Everything here is
/// data interpretation: a known name is rebuilt from its arguments, an unknown one becomes an
/// inert `PickleObject`. Nothing is imported, looked up dynamically or called.
enum Callables {
    static func call(_ callable: PickleValue, arguments: PickleValue) throws -> PickleValue {
        guard case .global(let module, let name) = callable else {
            // e.g. `_rebuild_from_type_v2` handing us a function it received as an argument
            if case .object(let object) = callable {
                return .object(PickleObject(module: object.module, name: object.name, arguments: arguments.items ?? [arguments]))
            }
            throw PickleError("cannot call a \(kind(of: callable))")
        }
        let args = arguments.items ?? []
        switch (module, name) {
        case ("collections", "OrderedDict"):
            let dict = PickleDict(ordered: true)
            if let pairs = args.first?.items {
                for pair in pairs {
                    guard let kv = pair.items, kv.count == 2 else { throw PickleError("OrderedDict item is not a pair") }
                    dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            return .tensor(try rebuildTensor(args))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = args.first, case .tensor = data else { throw PickleError("_rebuild_parameter without a tensor") }
            return data
        case ("torch._tensor", "_rebuild_from_type_v2"):
            // (function, subclass, function arguments, state): the subclass is dropped.
            guard args.count >= 3 else { throw PickleError("_rebuild_from_type_v2 needs 3 arguments") }
            return try call(args[0], arguments: args[2])
        case ("torch", "Size"):
            return .tuple(args.first?.items ?? [])
        case ("builtins", "set"), ("builtins", "frozenset"), ("__builtin__", "set"), ("__builtin__", "frozenset"):
            return .list(PickleList(args.first?.items ?? []))
        case ("builtins", "bytearray"), ("__builtin__", "bytearray"), ("_codecs", "encode"):
            // protocol-2 bytes: _codecs.encode(text, 'latin1')
            if let first = args.first, case .bytes = first { return first }
            if let text = args.first?.string { return .bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }) }
            return .bytes([])
        default:
            return .object(PickleObject(module: module, name: name, arguments: args))
        }
    }

    /// BUILD: hands `state` to the object on top of the stack, as `__setstate__` would.
    static func build(_ target: PickleValue, state: PickleValue) {
        switch target {
        case .object(let object):
            object.state = state
        case .dict(let dict):
            // A dict subclass with attributes; keep its items, ignore attributes.
            if case .dict(let extra) = state { for (k, v) in extra.entries { dict.set(k, v) } }
        default:
            break // tensors' Python-side state (hooks, subclass attributes) has no meaning here
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks, …)`.
    private static func rebuildTensor(_ args: [PickleValue]) throws -> TensorRef {
        guard args.count >= 4, case .storage(let storage) = args[0], let offset = args[1].int,
              let size = args[2].items?.map(\.int), let stride = args[3].items?.map(\.int),
              !size.contains(nil), !stride.contains(nil) else {
            throw PickleError("tensor record is malformed (expected storage, offset, size, stride)")
        }
        let requiresGrad = args.count > 4 ? (args[4].int ?? 0) != 0 : false
        return try TensorRef(storage: storage, offset: offset, shape: size.map { $0! },
                             strides: stride.map { $0! }, requiresGrad: requiresGrad)
    }

    static func kind(of value: PickleValue) -> String {
        switch value {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .tensor: return "tensor"
        case .storage: return "storage"
        case .global(let m, let n): return "\(m).\(n)"
        case .object(let o): return o.qualifiedName
        }
    }
}
