import CVideoShim
import Foundation

extension RGBImage {
    /// `cv::resize`'s interpolations.
    public enum Interpolation: Int32 {
        case linear = 1, cubic = 2, area = 3
    }

    /// The image resized by OpenCV (`cv::resize`), the call behind Python's
    /// `cv2.resize(img, (w, h), interpolation=…)`, so frames that upstream resizes with cv2
    /// match byte for byte. Bilinear is cv2's default.
    public func resized(width newWidth: Int, height newHeight: Int, _ interpolation: Interpolation = .linear) throws -> RGBImage {
        guard newWidth > 0, newHeight > 0 else {
            throw MediaError("an image can only be resized to a positive size, got \(newWidth)x\(newHeight)")
        }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        var error = [CChar](repeating: 0, count: 512)
        let status = pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                cvideo_resize(source.baseAddress, Int32(width), Int32(height), target.baseAddress,
                              Int32(newWidth), Int32(newHeight), interpolation.rawValue, &error, error.count)
            }
        }
        guard status == 0 else {
            throw MediaError("resizing a \(width)x\(height) image to \(newWidth)x\(newHeight) failed: \(String(cString: error))")
        }
        return try RGBImage(width: newWidth, height: newHeight, pixels: out)
    }
}

extension RGBImage {
    /// Nearest-neighbour enlargement by an integer factor.
    public func scaled(by factor: Int) throws -> RGBImage {
        guard factor > 1 else { return self }
        var out = try RGBImage(width: width * factor, height: height * factor)
        for y in 0..<out.height {
            for x in 0..<out.width { out[x, y] = self[x / factor, y / factor] }
        }
        return out
    }
}
