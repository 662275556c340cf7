/// `model.*`, decoded once. The architecture is a size preset named by `arch` or, for a custom
/// size, the explicit width, depth, heads, patch and MLP ratio.
public struct ModelSettings: Sendable {
    /// `model.name`: a display name (run folders and the W&B run's name interpolate it).
    public var name: String?
    /// `model.arch`: a preset (`NanoWM-B/2`) or another name for a custom size.
    public var arch: String?
    public var patchSize: Int?                     // patch_size
    public var hiddenSize: Int?                    // hidden_size
    public var depth: Int?
    public var numHeads: Int?                      // num_heads
    public var mlpRatio: Double?                   // mlp_ratio (a custom size: 4)
    /// The keys a preset fixes that are set explicitly, as written (a preset refuses a different value).
    public var presetFixedValues: [(key: String, value: ConfigNode)]
    public var latentSize: Int                     // latent_size
    public var latentChannels: Int                 // latent_channels
    public var numFrames: Int                      // num_frames
    public var causal: Bool                        // causal (null: true)
    public var useAction: Bool                     // use_action (null: false)
    public var actionInjection: String             // action_injection.type (null: additive)
    public var contextFrames: Int                  // n_context_frames
    public var schedulingMode: String              // scheduling_mode
    public var samplingSteps: Int                  // num_sampling_steps

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config, prefix: "model.")
        name = try r.get("name")
        actionInjection = try r.nullable("action_injection.type") ?? "additive"
        useAction = try r.nullable("use_action") ?? false
        latentSize = try r.required("latent_size")
        latentChannels = try r.required("latent_channels")
        numFrames = try r.required("num_frames")
        causal = try r.nullable("causal") ?? true
        arch = try r.nullable("arch")
        patchSize = try r.get("patch_size")
        hiddenSize = try r.get("hidden_size")
        depth = try r.get("depth")
        numHeads = try r.get("num_heads")
        mlpRatio = try r.get("mlp_ratio")
        presetFixedValues = ["hidden_size", "depth", "num_heads", "patch_size", "mlp_ratio"].compactMap { name in
            guard let node = r.node(name), !node.isNull else { return nil }
            return (r.key(name), node)
        }
        contextFrames = try r.required("n_context_frames")
        schedulingMode = try r.required("scheduling_mode")
        samplingSteps = try r.required("num_sampling_steps")
    }

    /// A custom size's explicit value; absent, the error says which key and why.
    public func custom(_ value: Int?, _ name: String) throws -> Int {
        guard let value else {
            throw ConfigError(.missingConfig, "model.\(name) is not set: model.arch=\(arch ?? "null") is not a size preset, so the size needs model.patch_size, hidden_size, depth and num_heads")
        }
        return value
    }
}
