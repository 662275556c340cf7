import Foundation
import SwiftTorch
import NanoWMConfiguration

/// The one way a codec is made from its name (upstream's `latent_codec.kind`, legacy `vae`
/// included) and, for the TorchScript codecs, the file `scripts/export_codec.py` wrote.
public enum CodecLoader {
    public static let kinds = ["pixel", "sd_vae", "webdino", "vjepa2_1"]

    /// Where a codec's exported network is looked for when no file is named.
    public static func defaultFile(_ kind: String) -> String { "checkpoints/\(kind).pt" }

    /// - Parameters:
    ///   - file: the exported network (nil: `defaultFile`); ignored by the pixel codec.
    ///   - fileSetting: how the user names the file (a config key or an option), for messages.
    public static func load(kind requested: String, file: String?, fileSetting: String, device: Device = .cpu) throws -> LatentCodec {
        let kind = requested == "vae" ? "sd_vae" : requested
        guard kinds.contains(kind) else {
            throw ConfigError(.invalidValue, "latent codec '\(requested)' is unknown; use \(kinds.joined(separator: ", "))")
        }
        if kind == "pixel" { return PixelCodec() }
        let path = file ?? defaultFile(kind)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(.missingConfig, "latent_codec=\(kind) needs its network exported to TorchScript at \(path) (\(fileSetting)); make it once with `scripts/export_codec.py \(kind) SRC \(path)` (checkpoints/README.md says where the weights come from), or use latent_codec=pixel")
        }
        if kind == "sd_vae" { return try SDVAECodec(contentsOf: path, device: device) }
        return try SemanticCodec(contentsOf: path, kind: kind, device: device)
    }
}
