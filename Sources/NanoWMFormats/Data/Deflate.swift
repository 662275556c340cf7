import CCompressionShim

/// Raw deflate (zip's method 8) through zlib, for `NumpyArchive.read(_:inflate:)`: the
/// reference's `np.savez_compressed` files (a point cloud's viewer file).
public enum Deflate {
    public static func inflate(_ compressed: [UInt8], plainSize: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plainSize)
        var error = [CChar](repeating: 0, count: 256)
        let status = compressed.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                ccompression_inflate(input.baseAddress, input.count, output.baseAddress, plainSize, &error, error.count)
            }
        }
        guard status == 0 else { throw DataError(String(cString: error)) }
        return out
    }
}
