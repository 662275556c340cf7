import Foundation
import SwiftTorch
import NanoWMFormats

/// Pixels around `nanowm sample` and `rollout`: with a codec, the input clip may be frames — a
/// video (MP4 or any format OpenCV's FFmpeg decodes) or safetensors `frames` [B, K, 3, H, W] in
/// [−1, 1] — which are encoded to the model's context latents, and the samples are decoded and
/// written as a video when the output is `.mp4` or `.gif` (a safetensors output then also holds
/// the decoded `frames`).
public struct PixelSpace {
    public var codec: LatentCodec { clips.codec }
    private let clips: ClipCodec
    /// Safetensors file with `action` [B, F, A], for a video input (a video carries no actions).
    public var actionFile: String?
    /// Frames per second of a video output.
    public var fps = 8.0

    public init(codec: LatentCodec) { clips = ClipCodec(codec) }

    /// The codec `kind` from its exported `file`; an SD-VAE also takes the `vae.*` weights of the
    /// model's Lightning checkpoint when it has them, as upstream's sampling does.
    public init(kind: String, file: String?, checkpoint: String?, device: Device) throws {
        try self.init(codec: try CodecLoader.load(kind: kind, file: file, fileSetting: "--codec-file", device: device), checkpoint: checkpoint)
    }

    /// `codec`, an SD-VAE with the `vae.*` weights of the checkpoint when it has them.
    public init(codec: LatentCodec, checkpoint: String?) throws {
        clips = ClipCodec(codec)
        if let vae = codec as? SDVAECodec, let checkpoint {
            _ = try UpstreamWeights.loadCodecWeights(try Checkpoint.open(checkpoint), into: vae)
        }
    }

    static let videoExtensions: Set<String> = ["mp4", "mov", "avi", "mkv", "webm"]

    static func isVideo(_ path: String) -> Bool { videoExtensions.contains(URL(fileURLWithPath: path).pathExtension.lowercased()) }
    static func isAnimation(_ path: String) -> Bool { URL(fileURLWithPath: path).pathExtension.lowercased() == "gif" }

    /// Whether a command with this input and output works in pixels: a video or `frames` input,
    /// or a video or GIF output. A latent clip in and safetensors out needs no codec.
    public static func isNeeded(input: String, output: String) -> Bool {
        if isVideo(input) || isVideo(output) || isAnimation(output) { return true }
        guard let file = try? InputFile(input) else { return false }  // the command reports an unreadable input itself
        return !file.contains("context") && file.contains("frames")
    }

    /// Frames `[B, K, 3, H, W]` in [−1, 1] of a pixel-space input, or nil when the input is a
    /// latent clip (safetensors with `context`). A video is read as upstream's datasets read
    /// frames: uint8 / 255, then · 2 − 1.
    public func frames(of input: String) throws -> Tensor? {
        if Self.isVideo(input) {
            let video = try MP4Writer.read(URL(fileURLWithPath: input))
            return try signedFrames(video).unsqueeze(0)
        }
        let file = try InputFile(input)
        guard !file.contains("context"), file.contains("frames") else { return nil }
        let frames = try file.values("frames", layout: "[B, K, 3, H, W] in [−1, 1]")
        guard frames.shape.count == 5, frames.shape[2] == 3 else {
            throw DataError("\(input): frames has shape \(frames.shape); give [B, K, 3, H, W] in [−1, 1]")
        }
        return frames
    }

    /// The model's context latents `[B, K, C, h, w]` for pixel frames: resized to what the codec
    /// turns into the model's latent size (bilinear, no antialias, as upstream's datasets resize),
    /// then encoded clip by clip.
    public func encode(_ frames: Tensor, for config: NanoWMConfig) throws -> Tensor {
        var frames = frames
        if let size = frameSize(for: config), frames.shape[3] != size || frames.shape[4] != size {
            let (b, k) = (frames.shape[0], frames.shape[1])
            let resized = try frames.flatten(start: 0, end: 1).interpolate(size: [size, size], mode: .bilinear, alignCorners: false)
            frames = try resized.reshape([b, k] + Array(resized.shape[1...]))
        }
        let latents = try withNoGrad { try clips.encode(frames) }
        guard Array(latents.shape[2...]) == [config.inChannels, config.inputSize, config.inputSize] else {
            throw DataError("the codec turns these frames into \(Array(latents.shape[2...])) latents, but the model takes [\(config.inChannels), \(config.inputSize), \(config.inputSize)]; choose the codec the model was trained with")
        }
        return latents
    }

    /// The square frame size whose latents have the model's size; nil when the codec resizes
    /// frames itself (the semantic encoders).
    func frameSize(for config: NanoWMConfig) -> Int? {
        if let vae = codec as? SDVAECodec { return config.inputSize * vae.file.downsample }
        if codec is PixelCodec { return config.inputSize }
        return nil
    }

    /// The latents `[F, C, h, w]` of one clip decoded into images (the decoder's output
    /// clamped to [−1, 1]).
    public func images(_ latents: Tensor) throws -> [RGBImage] {
        let frames = try withNoGrad { try ClipCodec.unit(try clips.decode(try latents.unsqueeze(0))) }
        return try RGBImage.frames(from: try frames.squeeze(0).to(.cpu))
    }

    /// Writes generated latents `[B, F, C, h, w]`: as a video of the decoded frames (the batch's
    /// clips side by side) for `.mp4`/`.gif`, else as safetensors `samples` and, when the codec
    /// decodes, `frames` in [−1, 1].
    func write(_ samples: Tensor, to output: String) throws {
        let video = Self.isVideo(output) || Self.isAnimation(output)
        guard codec.hasDecoder else {
            if video { throw DataError("\(output): this codec cannot decode latents to pixels; write a .safetensors output instead") }
            return try SafeTensors.write(["samples": try samples.to(.cpu)], to: output)
        }
        let (b, f) = (samples.shape[0], samples.shape[1])
        let decoded = try withNoGrad { try clips.decodeUnclamped(samples) }.to(.cpu)
        guard video else {
            return try SafeTensors.write(["samples": try samples.to(.cpu), "frames": decoded], to: output)
        }
        let unit = try ClipCodec.unit(try decoded.clamp(min: -1, max: 1))
        let images = try (0..<f).map { t in
            try RGBImage.grid(try (0..<b).map { try RGBImage(tensor: try unit.select(dim: 0, index: $0).select(dim: 0, index: t)) },
                              columns: b, padding: b > 1 ? 2 : 0)
        }
        let url = URL(fileURLWithPath: output)
        if Self.isAnimation(output) { try GIFEncoder.write(frames: images, fps: fps, to: url) } else { try MP4Writer.write(images, fps: fps, to: url) }
    }
}
