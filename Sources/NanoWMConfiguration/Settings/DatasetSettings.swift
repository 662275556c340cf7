/// `dataset.*` and the two model keys the reference's dataset factories take (`model.num_frames`,
/// `model.image_size`), decoded once.
public struct DatasetSettings: Sendable {
    /// `dataset.name`: `builtin_wall` or one of the reference's recorded datasets.
    public var name: String
    /// `dataset.frame_interval`: raw steps from one frame of a clip to the next (each action is
    /// widened to this many steps' actions). 1 when absent or null, as the reference's loaders
    /// default it; it must be positive.
    public var frameInterval: Int
    /// `dataset.spec.action_dim`: the raw action width the model is built for (absent or null: unchecked).
    public var actionDimension: Int?
    /// `model.num_frames`: frames per clip.
    public var clipFrames: Int
    /// `model.image_size`: one number for square frames or `[H, W]`; nil when absent.
    public var imageSize: (height: Int, width: Int)?
    /// `dataset.latent_cache`: the folder of the codec's cached encoder output.
    public var latentCache: String?
    public var loader: LoaderSettings
    /// The built-in wall environment's generator settings; nil for a recorded dataset.
    public var builtin: BuiltinDatasetSettings?
    /// The `dataset` block the reference writes into `validation_subset.json`, values as composed
    /// (null when absent).
    public var subsetHeader: [(key: String, value: ConfigNode)]

    public static let builtinName = "builtin_wall"

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config)
        name = try r.required("dataset.name")
        frameInterval = try r.get("dataset.frame_interval") ?? 1
        guard frameInterval > 0 else { throw ConfigError(.invalidValue, "dataset.frame_interval must be positive, got \(frameInterval)") }
        actionDimension = try r.get("dataset.spec.action_dim")
        clipFrames = try r.required("model.num_frames")
        imageSize = try r.node("model.image_size").flatMap(Self.decodeImageSize)
        latentCache = try r.get("dataset.latent_cache")
        loader = try LoaderSettings(config)
        builtin = name == Self.builtinName ? try BuiltinDatasetSettings(r) : nil
        func raw(_ key: String) -> ConfigNode { r.node(key) ?? .null }
        subsetHeader = [("name", raw("dataset.name")), ("num_frames", raw("model.num_frames")),
                        ("frame_interval", raw("dataset.frame_interval")), ("split_ratio", raw("dataset.loader.split_ratio")),
                        ("val_slice_mode", raw("dataset.loader.val_slice_mode")), ("stride", raw("dataset.loader.stride")),
                        ("random_seed", raw("dataset.loader.random_seed"))]
    }

    static func decodeImageSize(_ node: ConfigNode) throws -> (height: Int, width: Int)? {
        if node.isNull { return nil }
        if let side = node.int { return (side, side) }
        if let sides = node.array?.compactMap(\.int), [1, 2].contains(sides.count), sides.count == node.array?.count {
            return (sides[0], sides.last!)
        }
        throw ConfigError(.invalidValue, "model.image_size=\(ConfigYAML.flowText(node)) must be a number or [height, width]")
    }
}

/// The built-in wall dataset's generator: `dataset.data_dir`, `num_trajectories`,
/// `trajectory_length`, `resolution`, `seed`.
public struct BuiltinDatasetSettings: Sendable {
    public var directory: String
    public var trajectories: Int
    public var trajectoryLength: Int
    public var resolution: Int
    public var seed: Int

    init(_ r: SettingsReader) throws {
        directory = try r.required("dataset.data_dir")
        trajectories = try r.required("dataset.num_trajectories")
        trajectoryLength = try r.required("dataset.trajectory_length")
        resolution = try r.required("dataset.resolution")
        seed = try r.required("dataset.seed")
    }
}
