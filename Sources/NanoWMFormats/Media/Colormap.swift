import CVideoShim

/// Colour maps for pictures of scalar fields, OpenCV's tables of them: turbo (Google's, for
/// depth, as the reference's depth pictures use) and viridis (matplotlib's, for confidence).
public enum Colormap: Int32 {
    case viridis = 16, turbo = 20

    /// The colours of grey levels 0…255.
    public func colors(_ levels: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: levels.count * 3)
        guard !levels.isEmpty else { return out }
        var error = [CChar](repeating: 0, count: 256)
        let status = levels.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { cvideo_apply_colormap(input.baseAddress, Int32(levels.count), rawValue, $0.baseAddress, &error, error.count) }
        }
        guard status == 0 else { throw MediaError("colour map: \(String(cString: error))") }
        return out
    }

    /// An image of `values` (row after row, `width` wide), their finite minimum to maximum
    /// spread over the map's 256 levels.
    public func image(_ values: [Float], width: Int, height: Int) throws -> RGBImage {
        let finite = values.filter(\.isFinite)
        let low = Double(finite.min() ?? 0), high = Double(finite.max() ?? 1)
        let span = high > low ? high - low : 1
        let levels = values.map { value -> UInt8 in
            guard value.isFinite else { return 0 }
            return UInt8(Swift.min(255, Swift.max(0, ((Double(value) - low) / span * 255).rounded())))
        }
        return try RGBImage(width: width, height: height, pixels: try colors(levels))
    }
}
