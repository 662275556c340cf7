import Foundation

/// Reads Apache Thrift's compact protocol, the encoding of parquet's footer and page headers.
/// Every read is bounds-checked and nesting is capped, so a hostile file ends in a `Failure`,
/// never a crash or an unbounded allocation.
struct ThriftCompactReader {
    struct Failure: Error { let message: String }

    /// Compact-protocol type codes.
    enum FieldType: UInt8 {
        case stop = 0, boolTrue, boolFalse, byte, i16, i32, i64, double, binary, list, set, map, structure
    }

    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    private var depth = 0
    private static let maxDepth = 64

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    mutating func byte() throws -> UInt8 {
        guard position < end else { throw Failure(message: "ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let b = try byte()
            guard shift < 64 else { throw Failure(message: "has an over-long integer") }
            result |= UInt64(b & 0x7F) << UInt64(shift)
            if b & 0x80 == 0 { return result }
        }
        throw Failure(message: "has an over-long integer")
    }

    /// A zigzag-encoded signed integer (i16, i32 and i64 alike).
    mutating func signed() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func int32() throws -> Int32 {
        let v = try signed()
        guard let narrow = Int32(exactly: v) else { throw Failure(message: "has a 32-bit field out of range") }
        return narrow
    }

    /// A non-negative count or size that must fit what remains to be read when `bounded`.
    mutating func count(_ what: String, atMost limit: Int = Int(Int32.max)) throws -> Int {
        let v = try signed()
        guard v >= 0, v <= Int64(limit) else { throw Failure(message: "has an invalid \(what) (\(v))") }
        return Int(v)
    }

    mutating func binary() throws -> [UInt8] {
        let n = Int(try varint() & 0x7FFF_FFFF)
        guard n <= end - position else { throw Failure(message: "has a string longer than the data") }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    mutating func string() throws -> String { String(decoding: try binary(), as: UTF8.self) }

    /// A list header: element type and count (each element takes at least one byte, except
    /// booleans, which also take one in lists).
    mutating func listHeader() throws -> (FieldType, Int) {
        let header = try byte()
        var n = Int(header >> 4)
        if n == 15 { n = Int(try varint() & 0x7FFF_FFFF) }
        guard let type = FieldType(rawValue: header & 0x0F) else { throw Failure(message: "has an unknown list type") }
        guard n <= end - position else { throw Failure(message: "has a list longer than the data") }
        return (type, n)
    }

    mutating func list<T>(_ element: (inout ThriftCompactReader) throws -> T) throws -> [T] {
        let (_, n) = try listHeader()
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try element(&self)) }
        return out
    }

    /// Walks a struct's fields: `field` gets each id and type and returns false for fields it
    /// does not read, which are then skipped. Booleans carry their value in the type.
    mutating func structure(_ field: (inout ThriftCompactReader, Int, FieldType) throws -> Bool) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw Failure(message: "nests too deeply") }
        var last = 0
        while true {
            let header = try byte()
            guard let type = FieldType(rawValue: header & 0x0F) else { throw Failure(message: "has an unknown field type") }
            if type == .stop { return }
            let delta = Int(header >> 4)
            let id = delta != 0 ? last + delta : Int(try signed())
            last = id
            if try !field(&self, id, type) { try skip(type) }
        }
    }

    mutating func skip(_ type: FieldType) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw Failure(message: "nests too deeply") }
        switch type {
        case .stop, .boolTrue, .boolFalse: return
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard end - position >= 8 else { throw Failure(message: "ends early") }
            position += 8
        case .binary: _ = try binary()
        case .list, .set:
            let (element, n) = try listHeader()
            for _ in 0..<n { try skip(element == .boolTrue || element == .boolFalse ? .byte : element) }
        case .map:
            let n = Int(try varint() & 0x7FFF_FFFF)
            guard n <= end - position else { throw Failure(message: "has a map longer than the data") }
            if n == 0 { return }
            let kinds = try byte()
            guard let key = FieldType(rawValue: kinds >> 4), let value = FieldType(rawValue: kinds & 0x0F) else {
                throw Failure(message: "has an unknown map type")
            }
            for _ in 0..<n {
                try skip(key == .boolTrue || key == .boolFalse ? .byte : key)
                try skip(value == .boolTrue || value == .boolFalse ? .byte : value)
            }
        case .structure: try structure { _, _, _ in false }
        }
    }
}
