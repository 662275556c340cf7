import SwiftTorch
import NanoWMFormats

/// `nanowm codec encode|decode`: a codec applied to a safetensors file, for scripts and
/// checks against PyTorch. Encoding reads `frames` `[N, 3, H, W]` (float, in [−1, 1]) and
/// writes `latents`; decoding reads `latents` and writes `frames` (raw decoder output).
public enum CodecTransfer {
    /// Encodes; with `seed`, the global generator is seeded first, so an SD-VAE sample equals
    /// upstream's `torch.manual_seed(seed)` then `encode(x).latent_dist.sample() * scaling_factor`.
    @discardableResult
    public static func encode(_ codec: LatentCodec, input: String, output: String, seed: Int?,
                              draw: SDVAECodec.Draw = .sample, device: Device = .cpu) throws -> [Int] {
        let frames = try InputFile(input).values("frames", layout: "[N, 3, H, W] in [−1, 1]")
        guard frames.shape.count == 4, frames.shape[1] == 3 else {
            throw DataError("\(input): frames has shape \(frames.shape); the codec takes [N, 3, H, W] in [−1, 1]")
        }
        if let seed {
            guard seed >= 0 else { throw DataError("--seed must be ≥ 0 (got \(seed))") }
            try manualSeed(UInt64(seed))
        }
        let x = try frames.to(device)
        let latents: Tensor = try withNoGrad {
            switch (codec as? SDVAECodec, draw) {
            case (let vae?, _): return try vae.encode(signed: x, draw: draw)
            case (nil, .sample): return try codec.encode(signed: x)
            case (nil, .mean): throw DataError("--mode mean applies to latent_codec=sd_vae (a posterior mean); this codec is deterministic, leave --mode out")
            }
        }
        try SafeTensors.write(["latents": try latents.to(.cpu)], to: output)
        return latents.shape
    }

    /// Decodes `latents` to the decoder's raw output.
    @discardableResult
    public static func decode(_ codec: LatentCodec, input: String, output: String, device: Device = .cpu) throws -> [Int] {
        guard codec.hasDecoder else {
            throw DataError("this codec is encoder-only (latent_codec=webdino or vjepa2_1): it cannot decode latents to pixels")
        }
        let latents = try InputFile(input).values("latents", layout: "[N, C, h, w]")
        guard latents.shape.count == 4 else { throw DataError("\(input): latents has shape \(latents.shape); expected [N, C, h, w]") }
        let frames = try withNoGrad { try codec.decodeToSigned(try latents.to(device)) }
        try SafeTensors.write(["frames": try frames.to(.cpu)], to: output)
        return frames.shape
    }
}
