/// A pickle interpreter that builds `PickleValue`s and never executes anything.
///
/// Python's unpickler imports every global it meets and calls it; that is how a checkpoint can
/// run `os.system`. Here a global is only a name: the handful that `torch.save` relies on
/// (OrderedDict, the tensor rebuild functions, `torch.Size`, sets, …) are interpreted, and any
/// other call or instantiation becomes an inert `PickleObject` recording its arguments.
/// Malformed input throws a `PickleError`; no input makes it trap.
struct Unpickler {
    /// Turns a persistent id (the storage tuple of `torch.save`) into a value.
    typealias PersistentLoader = (PickleValue) throws -> PickleValue

    private var cursor: ByteCursor
    private let persistentLoad: PersistentLoader?
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Elements placed into containers so far, over the whole load.
    private var containerElements = 0

    /// Bounds that keep a hostile pickle from exhausting memory through the stack, the memo
    /// or containers (lengths of strings and bytes are already bounded by the input itself).
    ///
    /// Containers are bounded by the total number of elements ever placed into tuples,
    /// lists, dicts, sets and objects, with the same limit as the stack. Bounding the stack
    /// alone is not enough: APPEND grows a list one item at a time without the stack ever
    /// holding more than two, and LIST/TUPLE/DICT move the stack's contents into a container
    /// and so make room for the next batch. Relative to the input this is no bound at all
    /// (every element costs at least one opcode byte), so the limit is absolute: 10^7
    /// elements is orders of magnitude above what a checkpoint holds (a few per tensor and
    /// per key) and keeps the worst case to a few hundred megabytes.
    static let maximumStackDepth = 10_000_000
    static let maximumMemoSize = 10_000_000
    static let maximumContainerElements = 10_000_000

    init(_ bytes: [UInt8], persistentLoad: PersistentLoader? = nil) {
        cursor = ByteCursor(bytes)
        self.persistentLoad = persistentLoad
    }

    static func load(_ bytes: [UInt8], persistentLoad: PersistentLoader? = nil) throws -> PickleValue {
        var unpickler = Unpickler(bytes, persistentLoad: persistentLoad)
        return try unpickler.run()
    }

    mutating func run() throws -> PickleValue {
        while true {
            let at = cursor.position
            guard let code = cursor.uint(1) else { throw PickleError("pickle ends without a STOP opcode") }
            do {
                if let result = try step(UInt8(code)) { return result }
            } catch let error as PickleError {
                if error.description.hasPrefix("pickle ") { throw error }
                throw PickleError("pickle opcode 0x\(String(code, radix: 16)) at byte \(at): \(error.description)")
            }
        }
    }

    // MARK: - One opcode

    /// Executes one opcode; returns the result at STOP.
    private mutating func step(_ code: UInt8) throws -> PickleValue? {
        switch code {
        case 0x80: // PROTO
            let version = try integer(1)
            guard version <= 5 else { throw PickleError("pickle protocol \(version) is newer than 5") }
        case 0x95: _ = try integer(8) // FRAME: a framing hint; the bytes follow inline
        case 0x2e: // STOP
            return try pop()

        // Marks and stack housekeeping
        case 0x28: marks.append(stack.count) // MARK
        case 0x30: _ = try pop() // POP
        case 0x31: _ = try popMark() // POP_MARK
        case 0x32: try push(try top()) // DUP

        // Constants and numbers
        case 0x4e: try push(.none) // NONE
        case 0x88: try push(.bool(true)) // NEWTRUE
        case 0x89: try push(.bool(false)) // NEWFALSE
        case 0x4b: try push(.int(try integer(1))) // BININT1
        case 0x4d: try push(.int(try integer(2))) // BININT2
        case 0x4a: try push(.int(Int(Int32(truncatingIfNeeded: try integer(4))))) // BININT
        case 0x8a: try push(try longValue(try bytes(try integer(1)))) // LONG1
        case 0x8b: try push(try longValue(try bytes(try length(4)))) // LONG4
        case 0x47: // BINFLOAT, big-endian
            let bits = try bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            try push(.float(Double(bitPattern: bits)))
        case 0x49: try push(try textInteger(try line())) // INT
        case 0x4c: // LONG, with Python 2's trailing L
            let text = try line()
            try push(try textInteger(text.hasSuffix("L") ? String(text.dropLast()) : text))
        case 0x46: // FLOAT
            let text = try line()
            guard let value = Double(text) else { throw PickleError("'\(text)' is not a float") }
            try push(.float(value))

        // Strings and bytes
        case 0x58: try push(.string(try utf8(try bytes(try length(4))))) // BINUNICODE
        case 0x8c: try push(.string(try utf8(try bytes(try integer(1))))) // SHORT_BINUNICODE
        case 0x8d: try push(.string(try utf8(try bytes(try length(8))))) // BINUNICODE8
        case 0x56: try push(.string(try line())) // UNICODE (raw-unicode-escape; ASCII in practice)
        case 0x43: try push(.bytes(Array(try bytes(try integer(1))))) // SHORT_BINBYTES
        case 0x42: try push(.bytes(Array(try bytes(try length(4))))) // BINBYTES
        case 0x8e: try push(.bytes(Array(try bytes(try length(8))))) // BINBYTES8
        case 0x96: try push(.bytes(Array(try bytes(try length(8))))) // BYTEARRAY8
        // Python 2 `str`: bytes that torch-era pickles treat as latin-1 text.
        case 0x55: try push(.string(latin1(try bytes(try integer(1))))) // SHORT_BINSTRING
        case 0x54: try push(.string(latin1(try bytes(try length(4))))) // BINSTRING
        case 0x53: try push(.string(try quotedString(try line()))) // STRING

        // Containers
        case 0x29: try push(.tuple([])) // EMPTY_TUPLE
        case 0x85: try push(try tuple(try popCount(1))) // TUPLE1
        case 0x86: try push(try tuple(try popCount(2))) // TUPLE2
        case 0x87: try push(try tuple(try popCount(3))) // TUPLE3
        case 0x74: try push(try tuple(try popMark())) // TUPLE
        case 0x5d: try push(.list(PickleList())) // EMPTY_LIST
        case 0x6c: try push(.list(PickleList(try contained(try popMark())))) // LIST
        case 0x7d: try push(.dict(PickleDict())) // EMPTY_DICT
        case 0x64: try push(.dict(try dictionary(from: try contained(try popMark())))) // DICT
        case 0x8f: try push(.list(PickleList())) // EMPTY_SET
        case 0x91: try push(.list(PickleList(try contained(try popMark())))) // FROZENSET
        case 0x61: try append(try pop()) // APPEND
        case 0x65, 0x90: try append(try contained(try popMark())) // APPENDS, ADDITEMS
        case 0x73: try setItems(try contained(try popCount(2))) // SETITEM
        case 0x75: try setItems(try contained(try popMark())) // SETITEMS

        // Memo
        case 0x70: try remember(try textIndex(try line())) // PUT
        case 0x71: try remember(try integer(1)) // BINPUT
        case 0x72: try remember(try integer(4)) // LONG_BINPUT
        case 0x94: try remember(memo.count) // MEMOIZE
        case 0x67: try push(try recall(try textIndex(try line()))) // GET
        case 0x68: try push(try recall(try integer(1))) // BINGET
        case 0x6a: try push(try recall(try integer(4))) // LONG_BINGET

        // Globals, calls and objects: named, never run
        case 0x63: // GLOBAL
            let module = try line(), name = try line()
            try push(.global(module: module, name: name))
        case 0x93: // STACK_GLOBAL
            let parts = try popCount(2)
            guard let module = parts[0].string, let name = parts[1].string else {
                throw PickleError("STACK_GLOBAL needs two strings")
            }
            try push(.global(module: module, name: name))
        case 0x52: // REDUCE
            let arguments = try pop()
            try push(try Callables.call(try pop(), arguments: arguments))
        case 0x81: // NEWOBJ
            let arguments = try pop()
            try push(try Callables.call(try pop(), arguments: arguments))
        case 0x92: // NEWOBJ_EX (keyword arguments are kept as a trailing dict)
            let keywords = try pop(), arguments = try pop(), type = try pop()
            var all = arguments.items ?? [arguments]
            if case .dict(let d) = keywords, d.count > 0 { all.append(keywords) }
            try push(try Callables.call(type, arguments: .tuple(all)))
        case 0x69: // INST
            let module = try line(), name = try line()
            try push(try Callables.call(.global(module: module, name: name), arguments: .tuple(try popMark())))
        case 0x6f: // OBJ
            let items = try popMark()
            guard let type = items.first else { throw PickleError("OBJ without a class") }
            try push(try Callables.call(type, arguments: .tuple(Array(items.dropFirst()))))
        case 0x62: // BUILD
            let state = try pop()
            Callables.build(try top(), state: state)
        case 0x51: // BINPERSID
            try push(try persistent(try pop()))
        case 0x50: // PERSID
            try push(try persistent(.string(try line())))
        case 0x82, 0x83, 0x84:
            throw PickleError("the extension registry (EXT opcodes) is not supported")
        case 0x97, 0x98:
            throw PickleError("out-of-band buffers (pickle protocol 5) are not supported")
        default:
            throw PickleError("unsupported pickle opcode 0x\(String(code, radix: 16))")
        }
        return nil
    }

    // MARK: - Stack

    private mutating func push(_ value: PickleValue) throws {
        guard stack.count < Self.maximumStackDepth else { throw PickleError("pickle stack grows beyond \(Self.maximumStackDepth) items") }
        stack.append(value)
    }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else { throw PickleError("pickle stack underflow") }
        return value
    }

    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else { throw PickleError("pickle stack underflow") }
        return value
    }

    private mutating func popCount(_ n: Int) throws -> [PickleValue] {
        guard stack.count - n >= (marks.last ?? 0) else { throw PickleError("pickle stack underflow") }
        defer { stack.removeLast(n) }
        return Array(stack.suffix(n))
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw PickleError("pickle has no MARK to pop to") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private mutating func remember(_ index: Int) throws {
        guard memo.count < Self.maximumMemoSize || memo[index] != nil else { throw PickleError("pickle memo grows beyond \(Self.maximumMemoSize) entries") }
        memo[index] = try top()
    }

    private func recall(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw PickleError("pickle refers to memo entry \(index), which was never stored") }
        return value
    }

    // MARK: - Containers

    /// How deep tuples may nest in tuples. Lists, dicts and objects free themselves without
    /// recursion (`PickleTeardown`); tuples are plain values, so their depth is bounded here.
    static let maximumTupleNesting = 1000

    /// Counts `items` against the container bound before they are placed into a container.
    private mutating func contained(_ items: [PickleValue]) throws -> [PickleValue] {
        try admit(items.count)
        return items
    }

    private mutating func admit(_ count: Int) throws {
        containerElements += count
        guard containerElements <= Self.maximumContainerElements else {
            throw PickleError("pickle containers grow beyond \(Self.maximumContainerElements) elements in all; "
                + "no checkpoint holds that many, so the file is damaged or hostile: re-save it with torch.save")
        }
    }

    private mutating func tuple(_ items: [PickleValue]) throws -> PickleValue {
        let items = try contained(items)
        // Shared sub-tuples (DUP, memo) could make the walk exponential, so it has a budget too.
        var budget = 10_000
        guard Self.tupleNesting(items, limit: Self.maximumTupleNesting, budget: &budget) < Self.maximumTupleNesting,
              budget > 0 else {
            throw PickleError("tuples nest deeper than \(Self.maximumTupleNesting) levels or too intricately")
        }
        return .tuple(items)
    }

    /// Nesting depth of tuples within `items`, counting no further than `limit` and visiting at
    /// most `budget` tuples.
    private static func tupleNesting(_ items: [PickleValue], limit: Int, budget: inout Int) -> Int {
        var deepest = 1
        for case .tuple(let inner) in items {
            budget -= 1
            guard deepest < limit, budget > 0 else { break }
            deepest = Swift.max(deepest, 1 + tupleNesting(inner, limit: limit - 1, budget: &budget))
        }
        return deepest
    }

    private func dictionary(from items: [PickleValue]) throws -> PickleDict {
        guard items.count % 2 == 0 else { throw PickleError("dict items come in an odd number") }
        let dict = PickleDict()
        for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
        return dict
    }

    /// APPEND, the one-item case, without building an array: hostile pickles repeat it.
    private mutating func append(_ item: PickleValue) throws {
        try admit(1)
        switch try top() {
        case .list(let list): list.items.append(item)
        case .object(let object): object.listItems.append(item)
        default: throw PickleError("APPEND to something that is not a list")
        }
    }

    private mutating func append(_ items: [PickleValue]) throws {
        switch try top() {
        case .list(let list): list.items.append(contentsOf: items)
        case .object(let object): object.listItems.append(contentsOf: items)
        default: throw PickleError("APPEND to something that is not a list")
        }
    }

    private mutating func setItems(_ items: [PickleValue]) throws {
        guard items.count % 2 == 0 else { throw PickleError("SETITEMS with an odd number of items") }
        switch try top() {
        case .dict(let dict):
            for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
        case .object(let object):
            for i in stride(from: 0, to: items.count, by: 2) { object.dictItems.append((items[i], items[i + 1])) }
        default: throw PickleError("SETITEM on something that is not a dict")
        }
    }

    private func persistent(_ id: PickleValue) throws -> PickleValue {
        guard let persistentLoad else { throw PickleError("pickle refers to external data (a persistent id) but none is available") }
        return try persistentLoad(id)
    }

    // MARK: - Operand decoding

    private mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
        guard let slice = cursor.take(n) else { throw PickleError("pickle truncated: needs \(n) more bytes, has \(cursor.remaining)") }
        return slice
    }

    private mutating func integer(_ width: Int) throws -> Int {
        guard let value = cursor.uint(width) else { throw PickleError("pickle truncated inside an operand") }
        return Int(truncatingIfNeeded: value)
    }

    /// A length operand, which must fit in what is left of the input.
    private mutating func length(_ width: Int) throws -> Int {
        guard let value = cursor.uint(width) else { throw PickleError("pickle truncated inside a length") }
        guard value <= UInt64(cursor.remaining) else { throw PickleError("pickle truncated: a length of \(value) bytes exceeds the \(cursor.remaining) left") }
        return Int(value)
    }

    /// A newline-terminated text operand (protocol 0 opcodes and GLOBAL).
    private mutating func line() throws -> String {
        let rest = cursor.bytes[cursor.position...]
        guard let newline = rest.firstIndex(of: 0x0a) else { throw PickleError("pickle truncated inside a text operand") }
        let text = try utf8(rest[..<newline])
        cursor.position = newline + 1
        return text
    }

    private func utf8(_ bytes: ArraySlice<UInt8>) throws -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw PickleError("pickle string is not valid UTF-8") }
        return text
    }

    private func latin1(_ bytes: ArraySlice<UInt8>) -> String {
        String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    private func quotedString(_ text: String) throws -> String {
        guard text.count >= 2, let quote = text.first, quote == "'" || quote == "\"", text.last == quote else {
            throw PickleError("STRING operand \(text.prefix(40)) is not quoted")
        }
        return String(text.dropFirst().dropLast())
    }

    private func textInteger(_ text: String) throws -> PickleValue {
        switch text {
        case "00": return .bool(false)
        case "01": return .bool(true)
        default:
            if let value = Int(text) { return .int(value) }
            guard !text.isEmpty, text.drop(while: { $0 == "-" }).allSatisfy(\.isNumber) else { throw PickleError("'\(text.prefix(40))' is not an integer") }
            return .bigInt(text)
        }
    }

    private func textIndex(_ text: String) throws -> Int {
        guard let index = Int(text) else { throw PickleError("'\(text.prefix(40))' is not a memo index") }
        return index
    }

    /// LONG1/LONG4: little-endian two's complement of any width.
    private func longValue(_ bytes: ArraySlice<UInt8>) throws -> PickleValue {
        guard let last = bytes.last else { return .int(0) }
        let negative = last & 0x80 != 0
        if bytes.count <= 8 {
            var value: UInt64 = negative ? ~0 : 0
            for (i, byte) in bytes.enumerated() {
                value &= ~(UInt64(0xff) << (8 * UInt64(i)))
                value |= UInt64(byte) << (8 * UInt64(i))
            }
            return .int(Int(bitPattern: UInt(value)))
        }
        return .bigInt(BigIntegerText.decimal(littleEndianTwosComplement: Array(bytes)))
    }
}

/// Decimal text of integers wider than 64 bits, which a checkpoint may hold (e.g. a hash
/// in hyper-parameters) but nothing numeric here consumes.
enum BigIntegerText {
    static func decimal(littleEndianTwosComplement bytes: [UInt8]) -> String {
        let negative = (bytes.last ?? 0) & 0x80 != 0
        var magnitude = bytes
        if negative { // two's complement → magnitude: invert, add one
            var carry = 1
            for i in magnitude.indices {
                let sum = Int(~magnitude[i]) + carry
                magnitude[i] = UInt8(truncatingIfNeeded: sum)
                carry = sum >> 8
            }
        }
        var digits: [Character] = []
        var number = Array(magnitude.reversed().drop(while: { $0 == 0 })) // big-endian
        while !number.isEmpty {
            var remainder = 0
            var quotient: [UInt8] = []
            for byte in number {
                let value = remainder << 8 | Int(byte)
                let q = value / 10
                remainder = value % 10
                if !quotient.isEmpty || q != 0 { quotient.append(UInt8(q)) }
            }
            digits.append(Character(String(remainder)))
            number = quotient
        }
        let text = digits.isEmpty ? "0" : String(digits.reversed())
        return negative ? "-" + text : text
    }
}
