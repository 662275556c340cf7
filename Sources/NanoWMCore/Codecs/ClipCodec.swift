import SwiftTorch

/// The one place clips meet a codec: frames `[B, T, 3, H, W]` ↔ the model's latents
/// `[B, T, C, h, w]`. Frames are in [−1, 1] on both sides, the range upstream's datasets hand
/// its codecs; the datasets' [0, 1] pixels enter it only through `latents(ofDatasetClips:)`.
public struct ClipCodec {
    /// What a dataset's clips hold.
    public enum DatasetClips {
        /// Pixel frames in [0, 1].
        case pixels
        /// A latent cache's stored encoder output: the codec's moments, not pixels.
        case cachedEncoderOutput
    }

    public let codec: LatentCodec
    public let datasetClips: DatasetClips

    public init(_ codec: LatentCodec, datasetClips: DatasetClips = .pixels) {
        self.codec = codec
        self.datasetClips = datasetClips
    }

    /// Dataset pixels in [0, 1] in the codec's range: x·2 − 1, as upstream's datasets map them.
    public static func signed(_ unitFrames: Tensor) throws -> Tensor { try unitFrames * 2.0 - 1.0 }

    /// Frames in the codec's range back in [0, 1], as the datasets and their metrics hold them.
    public static func unit(_ signedFrames: Tensor) throws -> Tensor { try (signedFrames + 1.0) * 0.5 }

    /// Latents of a batch of dataset clips, block `share` of a global batch of `shares` blocks
    /// (see `LatentCodec.encode(signed:share:of:)`). Pixels are mapped to the codec's range and
    /// encoded; a cache's encoder output only takes the codec's last step (the SD-VAE's
    /// posterior sample and scaling, drawn as the full codec draws it).
    public func latents(ofDatasetClips clips: Tensor, share: Int = 0, of shares: Int = 1) throws -> Tensor {
        switch datasetClips {
        case .pixels:
            return try encode(try Self.signed(clips), share: share, of: shares)
        case .cachedEncoderOutput:
            return try perFrame(clips) { moments in
                guard let vae = codec as? SDVAECodec else { return moments }
                let channels = moments.shape[1] / 2
                return try vae.scaledSample(mean: try moments.narrow(dim: 1, start: 0, length: channels),
                                            logVariance: try moments.narrow(dim: 1, start: channels, length: channels),
                                            share: share, of: shares)
            }
        }
    }

    /// Frames `[B, T, 3, H, W]` in [−1, 1] to latents `[B, T, C, h, w]`.
    public func encode(_ frames: Tensor, share: Int = 0, of shares: Int = 1) throws -> Tensor {
        try perFrame(frames) { try codec.encode(signed: $0, share: share, of: shares) }
    }

    /// Latents `[B, T, C, h, w]` to the decoder's raw output `[B, T, 3, H, W]` (nominally
    /// [−1, 1], unclamped), as upstream's decode returns it.
    public func decodeUnclamped(_ latents: Tensor) throws -> Tensor {
        try perFrame(latents) { try codec.decodeToSigned($0) }
    }

    /// Latents to frames clamped to [−1, 1], as upstream's metrics and videos take them.
    public func decode(_ latents: Tensor) throws -> Tensor {
        try decodeUnclamped(latents).clamp(min: -1, max: 1)
    }

    /// `transform` applied to the `B·T` frames of a clip batch at once, the result shaped back
    /// into clips.
    private func perFrame(_ clips: Tensor, _ transform: (Tensor) throws -> Tensor) throws -> Tensor {
        let (b, t) = (clips.shape[0], clips.shape[1])
        let out = try transform(try clips.flatten(start: 0, end: 1))
        return try out.reshape([b, t] + Array(out.shape[1...]))
    }
}
