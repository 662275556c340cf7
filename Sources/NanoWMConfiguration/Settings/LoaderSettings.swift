/// `dataset.loader.*`, as the reference's dataset factories read it: with `.get`, so an absent
/// key is null and null means "the factory's default" (written where the value is used, as the
/// reference writes it there). A present key of the wrong type is an error naming the key.
public struct LoaderSettings: Sendable {
    // Where the data is.
    public var dataPath: String?                 // data_path (RT-1: the LeRobot repository id)
    public var dataPathTrain: String?            // data_path_train (separate folders, PushT)
    public var dataPathValidation: String?       // data_path_val
    public var trainFileList: String?            // train_file_list (CSGO)
    public var validationFileList: String?       // val_file_list (CSGO)
    public var validationStartIndices: String?   // val_start_indices (a .npy of start frames)
    public var repositoryID: String?             // repo_id (RT-1, when data_path is unset)
    public var root: String?                     // root (RT-1's local copy)
    public var imageKey: String?                 // image_key (RT-1)
    public var objectName: String?               // object_name (rope, granular)
    // How clips are cut and actions prepared.
    public var rollouts: Double?                 // n_rollout: trajectories kept (RT-1: a count or a fraction)
    public var splitRatio: Double?               // split_ratio (training share; 0.9)
    public var randomSeed: Int?                  // random_seed (the split's shuffle; 42)
    public var trainSliceMode: String?           // train_slice_mode (exhaustive | random)
    public var validationSliceMode: String?      // val_slice_mode
    public var stride: Int?                      // stride (1)
    public var normalizeAction: Bool?            // normalize_action (true)
    public var actionScale: Double?              // action_scale (PushT 100, else 1)
    public var useRelativeActions: Bool?         // use_relative_actions (PushT requires it)
    public var withVelocity: Bool?               // with_velocity (planning goals read velocities.pth)
    public var resizeMode: String?               // resize_mode (stretch | pad)
    public var padActionDimension: Int?          // pad_action_dim (RT-1)
    public var preloadTrajectories: Bool?        // preload_trajectories (RT-1)
    public var useAuxiliaryState: Bool?          // use_auxiliary_state (CSGO; true is refused)
    // The validation clips.
    public var validationSize: Int?              // validation_size (null: every clip)
    public var fixedSubsetSize: Int?             // validation_fixed_subset_size
    public var fixedSubsetPath: String?          // validation_fixed_subset_path
    public var fixedSubsetSeed: Int?             // validation_fixed_subset_seed
    /// The fixed-subset keys present in the configuration, values as written (null included),
    /// for the settings recorded beside evaluation results.
    public var fixedSubsetAsWritten: [(key: String, value: ConfigNode)]

    /// The `dataset.loader` block of a composed configuration.
    public init(_ config: ConfigNode) throws {
        try self.init(reading: SettingsReader(config, prefix: "dataset.loader."))
    }

    /// Settings given as the `dataset.loader` mapping alone (messages still name full keys).
    public init(subtree: ConfigNode) throws {
        try self.init(["dataset": ["loader": subtree]])
    }

    init(reading r: SettingsReader) throws {
        dataPath = try r.get("data_path")
        dataPathTrain = try r.get("data_path_train")
        dataPathValidation = try r.get("data_path_val")
        trainFileList = try r.get("train_file_list")
        validationFileList = try r.get("val_file_list")
        validationStartIndices = try r.get("val_start_indices")
        repositoryID = try r.get("repo_id")
        root = try r.get("root")
        imageKey = try r.get("image_key")
        objectName = try r.get("object_name")
        rollouts = try r.get("n_rollout")
        splitRatio = try r.get("split_ratio")
        randomSeed = try r.get("random_seed")
        trainSliceMode = try r.get("train_slice_mode")
        validationSliceMode = try r.get("val_slice_mode")
        stride = try r.get("stride")
        normalizeAction = try r.get("normalize_action")
        actionScale = try r.get("action_scale")
        useRelativeActions = try r.get("use_relative_actions")
        withVelocity = try r.get("with_velocity")
        resizeMode = try r.get("resize_mode")
        padActionDimension = try r.get("pad_action_dim")
        preloadTrajectories = try r.get("preload_trajectories")
        useAuxiliaryState = try r.get("use_auxiliary_state")
        validationSize = try r.get("validation_size")
        fixedSubsetSize = try r.get("validation_fixed_subset_size")
        fixedSubsetPath = try r.get("validation_fixed_subset_path")
        fixedSubsetSeed = try r.get("validation_fixed_subset_seed")
        fixedSubsetAsWritten = ["validation_fixed_subset_size", "validation_fixed_subset_seed", "validation_fixed_subset_path"]
            .compactMap { name in r.node(name).map { (r.key(name), $0) } }
    }

    /// `n_rollout` where a reader keeps a whole number of trajectories.
    public func rolloutCount() throws -> Int? {
        guard let rollouts else { return nil }
        guard rollouts.rounded() == rollouts, abs(rollouts) < 9.0e18 else {
            throw ConfigError.wrongType("dataset.loader.n_rollout", expected: "an int or null", got: .double(rollouts))
        }
        return Int(rollouts)
    }
}
