/// A Python value as a pickle describes it, built without running any Python: the few
/// callables that `torch.save` relies on are recognised by name, and every other class or
/// function stays an inert `.object` that records what would have been called.
public indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits, as decimal text.
    case bigInt(String)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    /// Lists and sets; shared, because a pickle may refer to one container from two places.
    case list(PickleList)
    /// dict and collections.OrderedDict, in insertion order.
    case dict(PickleDict)
    case tensor(TensorRef)
    /// A storage reference from the archive (the persistent id of `torch.save`).
    case storage(StorageRef)
    /// A class or function named by the pickle, never imported.
    case global(module: String, name: String)
    /// What a call or instantiation of an unknown global would have produced.
    case object(PickleObject)

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var int: Int? {
        switch self {
        case .int(let v): return v
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
    public var double: Double? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    public var dict: PickleDict? { if case .dict(let d) = self { return d }; return nil }
    public var tensor: TensorRef? { if case .tensor(let t) = self { return t }; return nil }

    /// Tuple and list items alike.
    public var items: [PickleValue]? {
        switch self {
        case .tuple(let items): return items
        case .list(let list): return list.items
        default: return nil
        }
    }

    /// Looks a string key up in a dict value.
    public subscript(key: String) -> PickleValue? { dict?[key] }
}

public final class PickleList {
    public var items: [PickleValue]
    public init(_ items: [PickleValue] = []) { self.items = items }
    deinit { PickleTeardown.release(&items) }
}

public final class PickleDict {
    public private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    /// Whether the pickle built a `collections.OrderedDict` (written back the same way).
    public var isOrdered: Bool
    private var stringIndex: [String: Int] = [:]

    public init(ordered: Bool = false) { isOrdered = ordered }

    deinit {
        var values = entries.flatMap { [$0.key, $0.value] }
        entries = []
        PickleTeardown.release(&values)
    }

    public convenience init(_ pairs: [(String, PickleValue)], ordered: Bool = false) {
        self.init(ordered: ordered)
        for (key, value) in pairs { set(.string(key), value) }
    }

    /// Inserts or replaces; string keys keep their first position, as Python's dict does.
    public func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let s) = key {
            if let i = stringIndex[s] { entries[i].value = value; return }
            stringIndex[s] = entries.count
        }
        entries.append((key, value))
    }

    public subscript(key: String) -> PickleValue? {
        get { stringIndex[key].map { entries[$0].value } }
        set { if let newValue { set(.string(key), newValue) } }
    }

    public var count: Int { entries.count }
}

/// An instance of a class (or the result of a function) the reader does not know. Holds the
/// arguments it was built from and the state `__setstate__` would have received, so callers
/// can still look inside (e.g. the fields of an `argparse.Namespace`).
public final class PickleObject {
    public let module: String
    public let name: String
    public var arguments: [PickleValue]
    public var state: PickleValue?
    /// Items appended or set on it after construction (subclasses of list or dict).
    public var listItems: [PickleValue] = []
    public var dictItems: [(PickleValue, PickleValue)] = []

    public init(module: String, name: String, arguments: [PickleValue]) {
        self.module = module
        self.name = name
        self.arguments = arguments
    }

    public var qualifiedName: String { "\(module).\(name)" }

    deinit {
        var values = arguments + listItems + dictItems.flatMap { [$0.0, $0.1] } + (state.map { [$0] } ?? [])
        arguments = []; listItems = []; dictItems = []; state = nil
        PickleTeardown.release(&values)
    }
}
