import Foundation

/// Reads a NumPy `.npy` file of integers (versions 1–3, C order, little-endian or single
/// byte), such as CSGO's fixed validation start indices (`int64 [500]`).
public enum NumpyFile {
    public static func integers(_ url: URL) throws -> (shape: [Int], values: [Int64]) {
        guard let data = try? Data(contentsOf: url) else {
            throw DataError("\(url.path): no such .npy file; check the path in the dataset config")
        }
        let bytes = [UInt8](data)
        func bad(_ why: String) -> DataError { DataError("\(url.path): not a valid .npy file (\(why)); write it with numpy.save") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8), (1...3).contains(bytes[6]) else {
            throw bad("no NUMPY magic")
        }
        let wide = bytes[6] >= 2
        let lengthBytes = wide ? 4 : 2
        guard bytes.count >= 8 + lengthBytes else { throw bad("truncated header") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes
        guard headerLength <= bytes.count - start else { throw bad("truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        guard let descr = field(header, "descr"), let shapeText = field(header, "shape"), field(header, "fortran_order") == "False" else {
            throw bad("header lacks descr/shape or is Fortran-ordered")
        }
        let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let widths = ["'<i8'": 8, "'<i4'": 4, "'<i2'": 2, "'|i1'": 1, "'|u1'": 1, "'<u2'": 2, "'<u4'": 4]
        guard let width = widths[descr] else { throw bad("dtype \(descr) is not a little-endian integer") }
        let count = shape.reduce(1, *)
        let body = start + headerLength
        guard shape.allSatisfy({ $0 >= 0 }), count <= (bytes.count - body) / width else { throw bad("truncated data") }
        let signed = descr.contains("i")
        let values: [Int64] = (0..<count).map { i in
            let raw = (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[body + i * width + $1]) << UInt64(8 * $1) }
            guard signed, width < 8 else { return Int64(bitPattern: raw) }
            let shift = UInt64(64 - 8 * width)
            return Int64(bitPattern: raw << shift) >> Int64(shift)
        }
        return (shape, values)
    }

    /// The text of `'key': value` in the header's Python dict literal (a tuple kept whole).
    private static func field(_ header: String, _ key: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        let rest = header[range.upperBound...].drop { $0 == " " }
        if rest.first == "(" { return rest.firstIndex(of: ")").map { String(rest[...$0]) } }
        return rest.split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
