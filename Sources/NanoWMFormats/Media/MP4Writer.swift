import CVideoShim
import Foundation
import SwiftTorch

/// MP4 (MPEG-4 Part 2, `mp4v`) through OpenCV's FFmpeg backend, written to a temporary file and
/// renamed, so an interrupted run never leaves a half-written video.
public enum MP4Writer {
    /// False in the portable build (scripts/bundle), which leaves OpenCV and FFmpeg out: runs
    /// that would write videos are refused before they start.
    public static var isAvailable: Bool { cvideo_available() != 0 }

    public static func write(_ frames: [RGBImage], fps: Double, to url: URL) throws {
        guard let first = frames.first else { throw MediaError("\(url.path): no frames to write") }
        // Most codecs need even dimensions; pad with black when they are odd.
        let width = first.width + first.width % 2, height = first.height + first.height % 2
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp.mp4")
        var error = [CChar](repeating: 0, count: 512)
        guard let writer = cvideo_writer_open(temporary.path, "mp4v", fps, Int32(width), Int32(height), &error, error.count) else {
            throw MediaError("\(url.path): \(String(cString: error))")
        }
        var open = true
        defer { if open { cvideo_writer_close(writer) } }
        for frame in frames {
            guard frame.width == first.width, frame.height == first.height else {
                throw MediaError("\(url.path): frames differ in size (\(frame.width)×\(frame.height) vs \(first.width)×\(first.height))")
            }
            let padded = width == frame.width && height == frame.height ? frame.pixels : pad(frame, width, height)
            let status = padded.withUnsafeBufferPointer { cvideo_writer_write(writer, $0.baseAddress, &error, error.count) }
            guard status == 0 else { throw MediaError("\(url.path): \(String(cString: error))") }
        }
        cvideo_writer_close(writer) // finishes the file before it is published
        open = false
        _ = try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: temporary, to: url)
    }

    /// Frame count and size of a video, by decoding it with OpenCV.
    public static func probe(_ url: URL) throws -> (frames: Int, width: Int, height: Int) {
        try RegularFile.check(url.path)
        var frames: Int32 = 0, width: Int32 = 0, height: Int32 = 0
        var error = [CChar](repeating: 0, count: 512)
        guard cvideo_probe(url.path, &frames, &width, &height, &error, error.count) == 0 else {
            throw MediaError("\(url.path): \(String(cString: error))")
        }
        return (Int(frames), Int(width), Int(height))
    }

    /// Every frame of a video (any format OpenCV's FFmpeg decodes: MP4 with H.264, AV1, …) as
    /// uint8 `[T, 3, H, W]`, RGB: the container's frame count, decoded by the one frame reader.
    public static func read(_ url: URL) throws -> Tensor {
        let frames = try probe(url).frames
        return try VideoFrameReader.frames(url, indices: Array(0..<frames)).permute(0, 3, 1, 2).contiguous()
    }

    private static func pad(_ frame: RGBImage, _ width: Int, _ height: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<frame.height {
            let source = y * frame.width * 3, target = y * width * 3
            out.replaceSubrange(target..<(target + frame.width * 3), with: frame.pixels[source..<(source + frame.width * 3)])
        }
        return out
    }
}

public struct MediaError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
