import CVideoShim
import Foundation
import SwiftTorch

/// Writes 8-bit RGB PNG files through OpenCV's imgcodecs (zlib-compressed, as every PNG reader
/// expects), so the project carries no encoder of its own.
public enum PNGEncoder {
    /// The PNG file's bytes for `image` (in memory: TensorBoard image summaries embed them).
    public static func encode(_ image: RGBImage) throws -> [UInt8] {
        var error = [CChar](repeating: 0, count: 512)
        var buffer: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status = image.pixels.withUnsafeBufferPointer {
            cvideo_encode_png($0.baseAddress, Int32(image.width), Int32(image.height), &buffer, &size, &error, error.count)
        }
        defer { cvideo_free(buffer) }
        guard status == 0, let buffer else {
            throw MediaError("PNG encoding of a \(image.width)x\(image.height) image failed: \(String(cString: error))")
        }
        return Array(UnsafeBufferPointer(start: buffer, count: size))
    }

    /// Encodes `image` and writes it to `url` through a temporary file, so a failure never
    /// leaves a half-written PNG.
    public static func write(_ image: RGBImage, to url: URL) throws {
        let bytes = try encode(image)
        try AtomicFile.write(to: url.path) { Data(bytes) }
    }
}

extension RGBImage {
    /// The image as a `data:image/png;base64,…` URL, the form a web page shows directly.
    public func pngDataURL() throws -> String {
        "data:image/png;base64," + Data(try PNGEncoder.encode(self)).base64EncodedString()
    }
}
