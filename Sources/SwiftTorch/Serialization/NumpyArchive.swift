import Foundation

/// Reads NumPy's `.npy` arrays, alone as `np.save` writes them or in `.npz` files as `np.savez`
/// writes them (a zip of stored `NAME.npy` entries). Each is a `.npy` header (magic, version, a Python dict literal with `descr`, `fortran_order`,
/// `shape`) followed by the raw array. Little-endian numeric arrays in C order are read;
/// anything else (compressed archives, object arrays, big-endian or Fortran-order data) is a
/// one-line error naming the file and the entry.
public enum NumpyArchive {
    /// One `.npy` file as `np.save` writes it.
    public static func readArray(_ path: String) throws -> Tensor {
        let data = try RegularFile.data(path)
        return try array([UInt8](data), path: path, entry: (path as NSString).lastPathComponent)
    }

    /// Turns a deflated zip entry (its bytes, its plain size) into its plain bytes.
    public typealias Inflate = (_ compressed: [UInt8], _ plainSize: Int) throws -> [UInt8]

    /// The arrays of an `np.savez` file; with `inflate`, also of an `np.savez_compressed` one
    /// (deflated entries, checked against their CRC-32 once inflated).
    public static func read(_ path: String, inflate: Inflate? = nil) throws -> [String: Tensor] {
        let archive = try ZipArchive(try ReadOnlyFile(path), compressedEntries: inflate != nil)
        var out: [String: Tensor] = [:]
        for entry in archive.entries where entry.name.hasSuffix(".npy") {
            let name = String(entry.name.dropLast(4))
            var bytes: [UInt8]
            if entry.isCompressed, let inflate {
                guard entry.method == 8 else {
                    throw CheckpointError(path, "\(entry.name) is compressed with \(ZipArchive.methodName(entry.method)); np.savez_compressed deflates")
                }
                bytes = try inflate(try archive.rawBytes(of: entry), entry.plainSize)
                var crc = CRC32()
                bytes.withUnsafeBytes { crc.update($0) }
                guard crc.checksum == entry.crc32 else { throw CheckpointError(path, "\(entry.name) does not match its checksum: the file is damaged") }
            } else {
                bytes = try archive.bytes(of: entry)
            }
            out[name] = try array(bytes, path: path, entry: entry.name)
        }
        return out
    }

    /// Writes arrays as `np.savez` does (stored `NAME.npy` entries, format 1.0 headers),
    /// atomically: a failed write leaves no file. float64, uint8, int64 and bool arrays keep
    /// their type; others are written as float32.
    public static func write(_ arrays: [(name: String, tensor: Tensor)], to path: String) throws {
        try AtomicFile.stream(to: path) { output in
            let zip = ZipWriter(output)
            for (name, tensor) in arrays {
                let kept: [DType: String] = [.float32: "<f4", .float64: "<f8", .uint8: "|u1", .int64: "<i8", .bool: "|b1"]
                let descr = kept[tensor.dtype] ?? "<f4"
                let values = try (kept[tensor.dtype] == nil ? tensor.to(.float32) : tensor).to(.cpu).contiguous()
                let shape = values.shape.map(String.init).joined(separator: ", ") + (values.shape.count == 1 ? "," : "")
                var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape)), }"
                // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
                header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
                var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
                bytes += Array(header.utf8)
                bytes += try values.bytes()
                try zip.add(name + ".npy", bytes)
            }
            try zip.finish()
        }
    }

    static let dtypes: [String: DType] = [
        "<f4": .float32, "<f8": .float64, "<f2": .float16, "|u1": .uint8, "|i1": .int8,
        "<i2": .int16, "<i4": .int32, "<i8": .int64, "|b1": .bool,
    ]

    static func array(_ bytes: [UInt8], path: String, entry: String) throws -> Tensor {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path, "\(entry): \(why)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("not a .npy array (no NUMPY magic)")
        }
        let major = bytes[6]
        let headerStart = major == 1 ? 10 : 12
        guard major >= 1, major <= 3, bytes.count >= headerStart else { throw fail("unsupported .npy version \(major)") }
        let headerLength = major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard headerLength <= bytes.count - headerStart else { throw fail("truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field("descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")),
              let shapeText = field("shape", in: header), let fortran = field("fortran_order", in: header) else {
            throw fail("unreadable .npy header \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard let dtype = dtypes[descr] else { throw fail("array type '\(descr)' is not supported (use float32)") }
        guard fortran == "False" else { throw fail("Fortran-order arrays are not supported (save with np.ascontiguousarray)") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try dims.map { text -> Int in
            guard let n = Int(text), n >= 0 else { throw fail("bad shape \(shapeText)") }
            return n
        }
        // The byte count a header declares, checked for overflow before any use (the message included).
        let needed = (shape + [dtype.byteSize]).reduce(Optional(1)) { total, n in
            total.flatMap { let (product, overflow) = $0.multipliedReportingOverflow(by: n); return overflow ? nil : product }
        }
        let start = headerStart + headerLength
        guard let needed, needed == bytes.count - start else {
            throw fail("shape \(shape) of \(descr) needs \(needed.map(String.init) ?? "more than 2⁶³") bytes, the entry has \(bytes.count - start)")
        }
        return try bytes.withUnsafeBytes { raw in
            try Tensor(bytes: UnsafeRawBufferPointer(rebasing: raw[start...]), dtype: dtype, shape: shape)
        }
    }

    /// The text of `'key': value` in the header's dict literal (a tuple value whole).
    static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)':") else { return nil }
        let rest = header[keyRange.upperBound...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return String(rest[..<end]).trimmingCharacters(in: .whitespaces)
    }
}
