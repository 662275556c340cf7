import SwiftTorch

/// Stable Diffusion's VAE as upstream's `sd_vae` codec uses it: frames in [−1, 1] are encoded
/// to the posterior and a **sample** is drawn (mean + exp(logvar/2)·ε, ε from the global
/// generator, exactly as diffusers' `posterior.sample()` draws it), then multiplied by the
/// scaling factor the exported file carries; decoding divides by it first. Float32 throughout.
public final class SDVAECodec: LatentCodec {
    public enum Draw: String, Sendable { case sample, mean }

    public let file: ExportedCodec
    public var hasDecoder: Bool { true }

    public init(contentsOf path: String, device: Device = .cpu) throws {
        file = try ExportedCodec(contentsOf: path, kind: "sd_vae", device: device)
    }

    public func to(_ device: Device) throws { try file.module.to(device) }

    public func latentShape(forFrame frame: [Int]) -> [Int] {
        [file.latentChannels, frame[1] / file.downsample, frame[2] / file.downsample]
    }

    /// The posterior's mean and (clamped) log-variance for frames `[N, 3, H, W]` in [−1, 1].
    public func moments(signed frames: Tensor) throws -> (mean: Tensor, logVariance: Tensor) {
        let parts = try file.tensors("encode_moments", frames)
        return (parts[0], parts[1])
    }

    /// `posterior.sample() * scaling_factor`: one normal draw of the mean's shape from the
    /// global generator, in diffusers' order of operations. For block `share` of a batch of
    /// `shares` equal blocks, the draw is the whole batch's and the block's rows are used.
    public func scaledSample(mean: Tensor, logVariance: Tensor, share: Int = 0, of shares: Int = 1) throws -> Tensor {
        guard shares >= 1, (0..<shares).contains(share) else {
            throw TorchError.invalidArgument("block \(share) of \(shares) does not exist")
        }
        let rows = mean.shape[0]
        var noise = try Tensor.randn([rows * shares] + Array(mean.shape.dropFirst()), dtype: mean.dtype, device: mean.device)
        if shares > 1 { noise = try noise.narrow(dim: 0, start: share * rows, length: rows) }
        return try (mean + (logVariance * 0.5).exp() * noise) * file.scalingFactor
    }

    public func encode(signed frames: Tensor, share: Int, of shares: Int) throws -> Tensor {
        let (mean, logVariance) = try moments(signed: frames)
        return try scaledSample(mean: mean, logVariance: logVariance, share: share, of: shares)
    }

    public var encodingDraws: Bool { true }

    /// The posterior sample's draw (the moments are float32 `[N, C, H/f, W/f]`), dropped.
    public func discardEncodingDraws(frames count: Int, of frame: [Int], device: Device) throws {
        _ = try Tensor.randn([count] + latentShape(forFrame: frame), dtype: .float32, device: device)
    }

    /// Latents of frames `[N, 3, H, W]` in [−1, 1]: a posterior sample (upstream's choice
    /// everywhere) or its mean, times the scaling factor.
    public func encode(signed frames: Tensor, draw: Draw) throws -> Tensor {
        let (mean, logVariance) = try moments(signed: frames)
        switch draw {
        case .sample: return try scaledSample(mean: mean, logVariance: logVariance)
        case .mean: return try mean * file.scalingFactor
        }
    }

    /// Upstream's encode: a posterior sample.
    public func encode(signed frames: Tensor) throws -> Tensor { try encode(signed: frames, draw: .sample) }

    /// The VAE's raw output (nominally [−1, 1], not clamped) for scaled latents.
    public func decodeToSigned(_ latents: Tensor) throws -> Tensor {
        try file.tensor("decode", try latents / file.scalingFactor)
    }

    /// Puts a Lightning checkpoint's `vae.*` weights (upstream registers the VAE as `vae`)
    /// into the exported network, by name; returns how many tensors were set.
    @discardableResult
    public func loadWeights(_ weights: [String: Tensor]) throws -> Int {
        let targets = try file.module.namedParameters().map(\.name) + file.module.namedBuffers().map(\.name)
        var set = 0
        for (key, value) in weights where key.hasPrefix("vae.") {
            let name = String(key.dropFirst("vae.".count))
            // The exported file traces the encoder half and the decoder half separately.
            for prefix in ["moments.vae.", "decoder.vae."] where targets.contains(prefix + name) {
                try file.module.setTensor(prefix + name, value)
                set += 1
            }
        }
        return set
    }
}
