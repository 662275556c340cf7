import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw little-endian data.
public enum SafeTensors {
    /// Reads every tensor of a `.safetensors` file onto the CPU. The file is memory-mapped,
    /// so only the tensors themselves take memory.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw TorchError.invalidArgument("cannot read safetensors file '\(path)': \(error.localizedDescription)")
        }
        return try decode(data, source: path)
    }

    public static func decode(_ data: Data, source: String = "<memory>") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ why: String) -> TorchError { .invalidArgument("\(source): not a valid safetensors file: \(why)") }
        guard data.count >= 8 else { throw fail("\(data.count) bytes is too short for the header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("header of \(headerLength) bytes runs past the end of the \(data.count)-byte file (truncated?)")
        }
        let headerEnd = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let payloadSize = data.count - headerEnd
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any],
                  let code = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int],
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = dtypeByCode[code] else { throw fail("entry '\(name)' has unsupported dtype \(code)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), 0 <= begin, begin <= end, end <= payloadSize else {
                throw fail("entry '\(name)' has byte range \(begin)..<\(end) outside the \(payloadSize)-byte payload")
            }
            guard end - begin == shape.reduce(1, *) * dtype.byteSize else {
                throw fail("entry '\(name)' holds \(end - begin) bytes, but \(code) \(shape) needs \(shape.reduce(1, *) * dtype.byteSize)")
            }
            tensors[name] = try data.withUnsafeBytes { raw in
                try Tensor(bytes: UnsafeRawBufferPointer(rebasing: raw[(headerEnd + begin)..<(headerEnd + end)]), dtype: dtype, shape: shape)
            }
        }
        return (tensors, metadata)
    }

    /// Writes `tensors` (any device, any layout) atomically: to a temporary file beside
    /// `path`, then renamed over it, so a crash never leaves a half-written file.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(to: path) { try encode(tensors, metadata: metadata) }
    }

    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var blobs: [[UInt8]] = []
        var offset = 0
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            guard let code = codeByDType[tensor.dtype] else {
                throw TorchError.invalidArgument("safetensors cannot store '\(name)' of dtype \(tensor.dtype)")
            }
            let bytes = try tensor.bytes()
            header[name] = ["dtype": code, "shape": tensor.shape, "data_offsets": [offset, offset + bytes.count]] as [String: Any]
            offset += bytes.count
            blobs.append(bytes)
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the payload starts 8-byte aligned, as the reference writer does.
        while (json.count % 8) != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for blob in blobs { out.append(contentsOf: blob) }
        return out
    }

    static let codeByDType: [DType: String] = [
        .float64: "F64", .float32: "F32", .float16: "F16", .bfloat16: "BF16", .int64: "I64",
        .int32: "I32", .int16: "I16", .int8: "I8", .uint8: "U8", .bool: "BOOL",
    ]
    static let dtypeByCode: [String: DType] = Dictionary(uniqueKeysWithValues: codeByDType.map { ($1, $0) })
}
