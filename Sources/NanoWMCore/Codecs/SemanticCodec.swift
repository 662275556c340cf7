import SwiftTorch

/// Upstream's encoder-only codecs, Web-DINO (`webdino`) and V-JEPA 2.1 (`vjepa2_1`): frames in
/// [−1, 1] are mapped to [0, 1] and clamped, resized bicubically (no antialias) to the
/// encoder's input size when they differ, normalised with ImageNet's mean and std, encoded to
/// patch tokens `[N, h·w, C]` (the exported file drops Web-DINO's CLS token and gives V-JEPA its
/// time axis), and laid out as a `[N, C, h, w]` grid. No scaling, no decoder.
public final class SemanticCodec: LatentCodec {
    public let file: ExportedCodec
    public var hasDecoder: Bool { false }
    private let inputSize: Int
    private let grid: Int

    /// - Parameter kind: `webdino` or `vjepa2_1`.
    public init(contentsOf path: String, kind: String, device: Device = .cpu) throws {
        file = try ExportedCodec(contentsOf: path, kind: kind, device: device)
        guard let size = file.inputSize, file.imageMean.count == 3, file.imageStd.count == 3 else {
            throw TorchError.invalidArgument("\(path): a \(kind) codec needs input_size, image_mean and image_std")
        }
        inputSize = size
        grid = size / file.downsample
    }

    public func latentShape(forFrame frame: [Int]) -> [Int] { [file.latentChannels, grid, grid] }

    public func to(_ device: Device) throws { try file.module.to(device) }
    public func discardEncodingDraws(frames count: Int, of frame: [Int], device: Device) throws {}

    /// Upstream's preprocessing of frames `[N, 3, H, W]` in [−1, 1].
    public func preprocess(signed frames: Tensor) throws -> Tensor {
        guard frames.shape.count == 4, frames.shape[1] == 3 else {
            throw TorchError.invalidArgument("\(file.kind) codec: expected frames [N, 3, H, W], got \(frames.shape)")
        }
        var x = try ((try frames.to(.float32) + 1.0) * 0.5).clamp(min: 0, max: 1)
        if x.shape[2] != inputSize || x.shape[3] != inputSize {
            x = try x.interpolate(size: [inputSize, inputSize], mode: .bicubic, alignCorners: false)
        }
        let mean = try Tensor(file.imageMean.map { Float($0) }, shape: [1, 3, 1, 1]).to(x.device)
        let std = try Tensor(file.imageStd.map { Float($0) }, shape: [1, 3, 1, 1]).to(x.device)
        return try (x - mean) / std
    }

    /// Latents `[N, C, h, w]` of frames `[N, 3, H, W]` in [−1, 1].
    public func encode(signed frames: Tensor) throws -> Tensor {
        let tokens = try file.tensor("encode_tokens", try preprocess(signed: frames))
        let (n, count, width) = (tokens.shape[0], tokens.shape[1], tokens.shape[2])
        guard count == grid * grid, width == file.latentChannels else {
            throw TorchError.invalidArgument("\(file.kind) codec produced tokens \(tokens.shape), expected [\(n), \(grid * grid), \(file.latentChannels)]")
        }
        return try tokens.to(.float32).reshape([n, grid, grid, width]).permute(0, 3, 1, 2).contiguous()
    }

    /// Deterministic: a block encodes as it would in its batch.
    public func encode(signed frames: Tensor, share: Int, of shares: Int) throws -> Tensor { try encode(signed: frames) }

    public func decodeToSigned(_ latents: Tensor) throws -> Tensor {
        throw TorchError.invalidArgument("latent_codec=\(file.kind) is an encoder-only codec: it cannot decode latents to pixels")
    }
}
