import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw little-endian data.
public enum SafeTensors {
    /// One entry of the header: where a tensor's bytes lie in the payload.
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Reads every tensor of a `.safetensors` file onto the CPU; each tensor's bytes go from
    /// the file straight into its own memory.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = try ReadOnlyFile(path)
        let (entries, metadata, payloadStart) = try header(of: file)
        var tensors: [String: Tensor] = [:]
        for entry in entries {
            let tensor = try Tensor.empty(entry.shape, dtype: entry.dtype)
            if entry.end > entry.begin {
                try file.read(into: tensor.unsafeDataPointer()!, count: entry.end - entry.begin, at: payloadStart + entry.begin)
            }
            tensors[entry.name] = tensor
        }
        return (tensors, metadata)
    }

    /// Whether the file starts like a safetensors file (a plausible header length, then '{').
    static func looksLikeSafeTensors(_ prefix: [UInt8]) -> Bool {
        prefix.count >= 9 && prefix[8] == UInt8(ascii: "{") && prefix[6] == 0 && prefix[7] == 0
    }

    /// Parses and validates the header: every entry has a known dtype, a shape whose byte
    /// size matches its range, and a range inside the payload.
    static func header(of file: ReadOnlyFile) throws -> (entries: [Entry], metadata: [String: String], payloadStart: Int) {
        func fail(_ why: String) -> CheckpointError { CheckpointError(file.path, "not a valid safetensors file: \(why)") }
        guard file.size >= 8 else { throw fail("\(file.size) bytes is too short for the header length") }
        var cursor = ByteCursor(try file.bytes(at: 0, count: 8))
        let headerLength = cursor.uint(8)!
        guard headerLength <= UInt64(file.size - 8) else {
            throw fail("header of \(headerLength) bytes runs past the end of the \(file.size)-byte file (truncated?)")
        }
        let payloadStart = 8 + Int(headerLength)
        let json = Data(try file.bytes(at: 8, count: Int(headerLength)))
        guard let header = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let payloadSize = file.size - payloadStart
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let fields = value as? [String: Any], let code = fields["dtype"] as? String,
                  let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = dtypeByCode[code] else { throw fail("entry '\(name)' has unsupported dtype \(code)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard 0 <= begin, begin <= end, end <= payloadSize else {
                throw fail("entry '\(name)' has byte range \(begin)..<\(end) outside the \(payloadSize)-byte payload (truncated?)")
            }
            guard let bytes = byteCount(shape, dtype), bytes == end - begin else {
                throw fail("entry '\(name)' holds \(end - begin) bytes, which does not fit \(code) \(shape)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        return (entries.sorted { $0.begin < $1.begin }, metadata, payloadStart)
    }

    /// Writes `tensors` (any device, any layout) atomically: to a temporary file beside
    /// `path`, then renamed over it, so a crash never leaves a half-written file.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        var ordered: [Tensor] = []
        for name in tensors.keys.sorted() {
            let tensor = try tensors[name]!.to(.cpu).contiguous()
            guard let code = codeByDType[tensor.dtype] else {
                throw CheckpointError(path, "safetensors cannot store '\(name)' of dtype \(tensor.dtype)")
            }
            let bytes = tensor.count * tensor.dtype.byteSize
            header[name] = ["dtype": code, "shape": tensor.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
            ordered.append(tensor)
        }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        // Pad with spaces so the payload starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        try AtomicFile.stream(to: path) { output in
            var length: [UInt8] = []
            length.appendLittleEndian(UInt64(json.count))
            try output.write(length)
            try output.write(json)
            for tensor in ordered where tensor.count > 0 {
                try output.write(UnsafeRawBufferPointer(start: tensor.unsafeDataPointer(), count: tensor.count * tensor.dtype.byteSize))
            }
        }
    }

    /// Bytes of a dense tensor, or nil when a dimension is negative or the product overflows.
    static func byteCount(_ shape: [Int], _ dtype: DType) -> Int? {
        var total = dtype.byteSize
        for size in shape {
            guard size >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            total = product
        }
        return total
    }

    static let codeByDType: [DType: String] = [
        .float64: "F64", .float32: "F32", .float16: "F16", .bfloat16: "BF16", .int64: "I64",
        .int32: "I32", .int16: "I16", .int8: "I8", .uint8: "U8", .bool: "BOOL",
    ]
    static let dtypeByCode: [String: DType] = Dictionary(uniqueKeysWithValues: codeByDType.map { ($1, $0) })
}
