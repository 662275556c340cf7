import Foundation

/// A JSON document with its objects' keys in order: what Python's `json` module reads and
/// writes (a dict keeps insertion order). The one way this project writes JSON files and reads
/// them back where order matters.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.map(\.key) == y.map(\.key) && x.map(\.value) == y.map(\.value)
        default: return false
        }
    }

    /// The value under `key` of an object (nil for another value or a missing key).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// A number's value (ints included).
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}

extension JSONValue {
    /// Foundation's JSON-like values (what `JSONSerialization` takes: dictionaries, arrays,
    /// strings, numbers, Bool, NSNull, nil) with dictionary keys sorted, as `sort_keys=True`.
    public init(sortingKeysOf any: Any?) {
        // An optional boxed in `Any` (`path.map(…) as Any`): its value, or null.
        if let any, Mirror(reflecting: any).displayStyle == .optional {
            self.init(sortingKeysOf: Mirror(reflecting: any).children.first?.value)
            return
        }
        switch any {
        case nil, is NSNull: self = .null
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .int(i)
        case let u as UInt64: self = u <= UInt64(Int.max) ? .int(Int(u)) : .double(Double(u))
        case let d as Double: self = .double(d)
        case let f as Float: self = .double(Double(f))
        case let s as String: self = .string(s)
        case let list as [Any?]: self = .array(list.map { JSONValue(sortingKeysOf: $0) })
        case let dictionary as [String: Any?]:
            self = .object(dictionary.keys.sorted().map { ($0, JSONValue(sortingKeysOf: dictionary[$0]!)) })
        case let number as NSNumber: self = .double(number.doubleValue)
        default: self = .string("\(any!)")
        }
    }
}

extension PythonJSON {
    /// `json.dumps(value, indent=indent)` (nil: one line, Python's `", "` and `": "` separators),
    /// with `ensure_ascii` escapes and Python's float repr. Non-finite numbers are written as
    /// `null` (strict JSON, unlike Python's `NaN`).
    public static func dumps(_ value: JSONValue, indent: Int? = nil) -> String {
        var out = ""
        write(value, indent: indent, level: 0, into: &out)
        return out
    }

    /// Python's `repr(float)`: the shortest text that reads back as the same double, with a
    /// `.0` on whole numbers, an exponent as Python writes it (`1e-05`, `1e+16`), `nan`, `inf`.
    public static func float(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        var text = "\(x)"  // shortest round-trip digits, like Python's repr
        if let e = text.firstIndex(of: "e") {
            let mantissa = text[..<e]
            var exponent = String(text[text.index(after: e)...])
            var sign = "+"
            if exponent.hasPrefix("-") { sign = "-"; exponent.removeFirst() } else if exponent.hasPrefix("+") { exponent.removeFirst() }
            if exponent.count < 2 { exponent = "0" + exponent }
            let m = mantissa.hasSuffix(".0") ? String(mantissa.dropLast(2)) : String(mantissa)
            text = m + "e" + sign + exponent
        }
        return text
    }

    private static func write(_ value: JSONValue, indent: Int?, level: Int, into out: inout String) {
        func newline(_ depth: Int) { if let indent { out += "\n" + String(repeating: " ", count: indent * depth) } }
        let separator = indent == nil ? ", " : ","
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? float(d) : "null"
        case .string(let s): out += string(s)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += separator }
                newline(level + 1)
                write(item, indent: indent, level: level + 1, into: &out)
            }
            newline(level)
            out += "]"
        case .object(let pairs):
            guard !pairs.isEmpty else { out += "{}"; return }
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += separator }
                newline(level + 1)
                out += string(pair.key) + ": "
                write(pair.value, indent: indent, level: level + 1, into: &out)
            }
            newline(level)
            out += "}"
        }
    }

    /// A Codable value as `dumps` writes it, keys sorted (Swift-only files read back with
    /// `JSONDecoder`: manifests, the quickstart's metrics).
    public static func dumps(encoding value: some Encodable, indent: Int? = 2) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return dumps(try loads(try encoder.encode(value)), indent: indent)
    }

    /// Reads a JSON document, keeping its objects' key order (`json.loads`). Throws a one-line
    /// error naming the offset for text that is not JSON or nests deeper than 512 levels.
    public static func loads(_ data: Data) throws -> JSONValue {
        var reader = Reader(bytes: Array(data))
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.position == reader.bytes.count else { throw reader.failure("extra text after the document") }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        func failure(_ what: String) -> PythonCompatibleError {
            PythonCompatibleError("not JSON: \(what) at byte \(position)")
        }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func literal(_ word: String, _ value: JSONValue) throws -> JSONValue {
            let utf8 = Array(word.utf8)
            guard bytes.count - position >= utf8.count, Array(bytes[position..<position + utf8.count]) == utf8 else {
                throw failure("an unknown word")
            }
            position += utf8.count
            return value
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 512 else { throw failure("nesting deeper than 512 levels") }
            skipSpace()
            guard position < bytes.count else { throw failure("the end of the text where a value belongs") }
            switch bytes[position] {
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "N"): return try literal("NaN", .double(.nan))
            case UInt8(ascii: "I"): return try literal("Infinity", .double(.infinity))
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                position += 1
                var items: [JSONValue] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard position < bytes.count else { throw failure("an unclosed list") }
                    let next = bytes[position]
                    position += 1
                    if next == UInt8(ascii: "]") { return .array(items) }
                    guard next == UInt8(ascii: ",") else { throw failure("a list item not followed by ',' or ']'") }
                }
            case UInt8(ascii: "{"):
                position += 1
                var pairs: [(key: String, value: JSONValue)] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(pairs) }
                while true {
                    skipSpace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("an object key that is not a string") }
                    let key = try string()
                    skipSpace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw failure("a key not followed by ':'") }
                    position += 1
                    pairs.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard position < bytes.count else { throw failure("an unclosed object") }
                    let next = bytes[position]
                    position += 1
                    if next == UInt8(ascii: "}") { return .object(pairs) }
                    guard next == UInt8(ascii: ",") else { throw failure("an object entry not followed by ',' or '}'") }
                }
            default:
                return try number()
            }
        }

        mutating func number() throws -> JSONValue {
            let start = position
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "I") { return try literal("Infinity", .double(-.infinity)) }
            }
            var integral = true
            while position < bytes.count {
                let byte = bytes[position]
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                    position += 1
                } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    integral = false
                    position += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if integral, let int = Int(text) { return .int(int) }
            guard !text.isEmpty, let double = Double(text) else { throw failure("'\(text.prefix(20))' where a value belongs") }
            return .double(double)
        }

        mutating func string() throws -> String {
            position += 1  // the opening quote
            var units: [UInt16] = []
            var chunk: [UInt8] = []
            func flush() { units += String(decoding: chunk, as: UTF8.self).utf16; chunk.removeAll() }
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(decoding: units, as: UTF16.self)
                case UInt8(ascii: "\\"):
                    flush()
                    guard position < bytes.count else { throw failure("an unfinished escape") }
                    let escaped = bytes[position]
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "n"): units.append(0x0A)
                    case UInt8(ascii: "t"): units.append(0x09)
                    case UInt8(ascii: "r"): units.append(0x0D)
                    case UInt8(ascii: "b"): units.append(0x08)
                    case UInt8(ascii: "f"): units.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard bytes.count - position >= 4,
                              let unit = UInt16(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else {
                            throw failure("a \\u escape without four hex digits")
                        }
                        units.append(unit)
                        position += 4
                    default: units.append(UInt16(escaped))  // \" \\ \/
                    }
                default:
                    chunk.append(byte)
                }
            }
            throw failure("an unclosed string")
        }
    }
}
