import CVideoShim
import Foundation
import SwiftTorch

/// Frames of a video at exact indices, decoded with OpenCV (FFmpeg) in decoding order, the
/// way upstream reads PushT's episodes with decord's `get_batch(indices)`.
public enum VideoFrameReader {
    /// uint8 `[n, H, W, 3]` RGB, frame `indices[k]` at position k.
    public static func frames(_ url: URL, indices: [Int]) throws -> Tensor {
        switch try read(url, indices: indices) {
        case .frames(let frames): return frames
        case .tooShort(let available):
            throw MediaError("\(url.path): the video has \(available) frames but frame \(indices.max()!) is needed; the file is truncated or shorter than expected")
        }
    }

    /// Frames 0, `step`, 2·`step`, … as far as the video goes, at most `count` of them (as a
    /// reader that walks the video and keeps every step-th frame).
    public static func frames(_ url: URL, every step: Int, atMost count: Int) throws -> Tensor {
        guard step > 0, count > 0 else { throw MediaError("\(url.path): a frame step and count must be positive") }
        let indices = (0..<count).map { $0 * step }
        switch try read(url, indices: indices) {
        case .frames(let frames): return frames
        case .tooShort(let available):
            let within = indices.filter { $0 < available }
            guard !within.isEmpty else { throw MediaError("\(url.path): the video has no frames") }
            return try frames(url, indices: within)
        }
    }

    private enum Outcome {
        case frames(Tensor)
        case tooShort(available: Int)
    }

    private static func read(_ url: URL, indices: [Int]) throws -> Outcome {
        guard !indices.isEmpty else { throw MediaError("\(url.path): no frames asked for") }
        try RegularFile.check(url.path)
        var rgb: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0, available: Int64 = 0
        var error = [CChar](repeating: 0, count: 512)
        let wanted = indices.map(Int64.init)
        let status = cvideo_read_frames(url.path, wanted, Int32(wanted.count), &rgb, &width, &height, &available, &error, error.count)
        defer { cvideo_free(rgb) }
        if status == 2 { return .tooShort(available: Int(available)) }
        guard status == 0, let rgb else {
            throw MediaError("\(url.path): \(String(cString: error)) (the file is missing, truncated or not a video OpenCV decodes)")
        }
        let count = indices.count * Int(height) * Int(width) * 3
        return .frames(try Tensor(bytes: UnsafeRawBufferPointer(start: rgb, count: count), dtype: .uint8,
                                  shape: [indices.count, Int(height), Int(width), 3]))
    }
}
