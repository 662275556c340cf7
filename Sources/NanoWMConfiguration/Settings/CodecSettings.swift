/// `latent_codec.*`: which codec turns frames into the model's latents, and its exported file.
public struct CodecSettings: Sendable {
    /// The codec: `kind`, else the legacy `name`, else `sd_vae`; `vae` means `sd_vae`.
    public var kind: String
    /// `kind` as written (null: `sd_vae`), for messages.
    public var kindAsWritten: String
    public var torchscript: String?                // torchscript: the file scripts/export_codec.py wrote
    public var latentChannels: Int?                // latent_channels (checked against the codec)
    public var inputSize: Int?                     // input_size (checked against the exported file)
    public var patchSize: Int?                     // patch_size (likewise)

    public static let torchscriptKey = "latent_codec.torchscript"

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config, prefix: "latent_codec.")
        let written: String? = try r.nullable("kind")
        let legacy: String? = try r.get("name")
        let chosen = written ?? legacy ?? "sd_vae"
        kind = chosen == "vae" ? "sd_vae" : chosen
        kindAsWritten = written ?? "sd_vae"
        torchscript = try r.get("torchscript")
        latentChannels = try r.get("latent_channels")
        inputSize = try r.get("input_size")
        patchSize = try r.get("patch_size")
    }
}
