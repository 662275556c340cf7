import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats

/// Upstream's dataset factories (`create_data_source`, `create_train_val_datasets` and the
/// training experiment's fixed-subset and `validation_size` steps) for the recorded datasets,
/// driven by the same configuration keys: `dataset.name`, `dataset.frame_interval`,
/// `dataset.loader.*`, `model.num_frames`, `model.image_size`.
public struct RecordedDatasets {
    /// The dataset names upstream supports; the built-in environment is separate.
    public static let names = ["point_maze", "wall", "pusht", "rope", "granular", "csgo", "rt1"]

    public let train: WorldModelDataset
    /// Already the fixed subset, or truncated to `validation_size`, as training validates on it.
    public let validation: WorldModelDataset
    /// The subset file read or written, when a fixed subset is configured.
    public let subsetFile: URL?

    let config: ConfigNode

    /// - Parameters:
    ///   - runDirectory: where `validation_subset.json` goes when no path is configured (no
    ///     file is written without one).
    ///   - progress: called while action statistics are computed for the first time.
    public init(_ config: ConfigNode, runDirectory: URL? = nil, progress: ((Int, Int) -> Void)? = nil) throws {
        self.config = config
        let splits = try Self.splits(config, progress: progress)
        train = splits.train
        (validation, subsetFile) = try Self.validationSubset(splits.validation, config, runDirectory: runDirectory)
    }

    // MARK: Sources

    /// `create_data_source`: the reader for `dataset.name` over one folder.
    static func source(_ config: ConfigNode, path: String?, pathKey: String) throws -> TrajectorySource {
        let name = try config.string("dataset.name"), loader = LoaderSettings(config)
        let limit = try loader.int("n_rollout")
        switch name {
        case "point_maze", "wall", "pusht", "rope", "granular":
            guard let path else { throw DataError("dataset '\(name)': set \(pathKey) (or dataset_dir=…) to the dataset's folder") }
            switch name {
            case "pusht":
                guard let relative = try loader.bool("use_relative_actions") else {
                    throw DataError("dataset 'pusht' needs dataset.loader.use_relative_actions=true|false (upstream requires it)")
                }
                return try PushTSource(path: path, useRelativeActions: relative, actionScale: try loader.double("action_scale") ?? 100,
                                       limit: limit, setting: pathKey)
            case "rope", "granular":
                return try DeformableSource(path: path, objectName: try loader.string("object_name") ?? name,
                                            actionScale: try loader.double("action_scale") ?? 1, limit: limit)
            default:
                return try DinoWMSource(path: path, actionScale: try loader.double("action_scale") ?? 1, limit: limit,
                                        useRelativeActions: try loader.bool("use_relative_actions") ?? true, setting: pathKey)
            }
        case "csgo":
            // Without file lists (upstream's default branch): every episode under the root.
            guard let path else { throw DataError("dataset 'csgo': set \(pathKey) (or csgo_data_dir=…) to the dataset's folder") }
            return try CSGOSource(root: URL(fileURLWithPath: path), rollouts: limit)
        case "rt1":
            return try LeRobotSource.make(loader: loader)
        default:
            throw DataError("dataset '\(name)' is unknown (supported: \(names.joined(separator: ", ")), builtin_wall)")
        }
    }

    // MARK: Splits

    /// The three branches of `create_train_val_datasets`.
    static func splits(_ config: ConfigNode, progress: ((Int, Int) -> Void)?, statistics: Bool = true) throws -> (train: WorldModelDataset, validation: WorldModelDataset) {
        let loader = LoaderSettings(config)
        let ratio = try loader.double("split_ratio") ?? 0.9
        let trainList = try loader.string("train_file_list"), validationList = try loader.string("val_file_list")
        let trainPath = try loader.string("data_path_train"), validationPath = try loader.string("data_path_val")
        let dataPath = try loader.string("data_path")
        if let trainList, let validationList {
            // File lists (CSGO): a source per list; each split takes all of its own, shuffled.
            _ = (trainList, validationList, dataPath)
            guard try config.string("dataset.name") == "csgo" else {
                throw DataError("dataset.loader.train_file_list/val_file_list are read by the CSGO reader only; remove them for dataset '\(try config.string("dataset.name"))'")
            }
            let trainSource = try CSGOSource.make(loader: loader, split: .train).source
            let (validationSource, starts) = try CSGOSource.make(loader: loader, split: .val)
            let train = try build(config, trainSource, .train, ratio: 1, progress: progress, statistics: statistics)
            let validation = try build(config, validationSource, .val, ratio: 0, fixedStarts: starts,
                                       progress: progress, statistics: statistics)
            return (train, validation)
        }
        if trainPath != nil || validationPath != nil {
            // Separate folders (PushT): validation statistics come from the validation folder, as upstream.
            let trainSource = try source(config, path: trainPath ?? dataPath, pathKey: "dataset.loader.data_path_train")
            let validationSource = try source(config, path: validationPath ?? dataPath, pathKey: "dataset.loader.data_path_val")
            let train = try build(config, trainSource, .train, ratio: 1, progress: progress, statistics: statistics)
            let validation = try build(config, validationSource, .val, ratio: 0, fixedStarts: try startIndices(loader),
                                       progress: progress, statistics: statistics)
            return (train, validation)
        }
        // One source: validation reuses the training statistics.
        let shared = try source(config, path: dataPath, pathKey: "dataset.loader.data_path")
        let train = try build(config, shared, .train, ratio: ratio, progress: progress, statistics: statistics)
        let validation = try build(config, shared, .val, ratio: ratio, fixedStarts: try startIndices(loader), inherited: train.statistics,
                                   progress: progress, statistics: statistics)
        return (train, validation)
    }

    /// `WorldModelDataset.__init__`: split, slicing, statistics.
    static func build(_ config: ConfigNode, _ source: TrajectorySource, _ split: TrajectorySplit, ratio: Double,
                      fixedStarts: [Int]? = nil, inherited: ActionStatistics? = nil,
                      progress: ((Int, Int) -> Void)?, statistics wanted: Bool = true) throws -> WorldModelDataset {
        let loader = LoaderSettings(config)
        try checkActionDimension(config, source)
        let frames = try config.int("model.num_frames"), interval = try config.frameInterval()
        guard frames > 0 else { throw DataError("model.num_frames must be positive") }
        let required = frames * interval, seed = try loader.int("random_seed") ?? 42
        let trajectories = try split.trajectories(count: source.trajectoryCount, ratio: ratio, seed: seed)
        let length = { (index: Int) in try source.trajectory(index).length }
        let modeKey = split == .train ? "train_slice_mode" : "val_slice_mode"
        let slicing: WorldModelDataset.Slicing
        switch try loader.string(modeKey) ?? "exhaustive" {
        case "exhaustive":
            let slices = try fixedStarts.map { try ClipSlicing.fixedStarts(trajectories, starts: $0, length: length, required: required) }
                ?? ClipSlicing.exhaustive(trajectories, length: length, required: required, stride: try loader.int("stride") ?? 1)
            slicing = .slices(slices)
        case "random":
            slicing = .random(try RandomClipSampler(trajectories, length: length, required: required, seed: seed))
        case let other:
            throw DataError("dataset.loader.\(modeKey)=\(other) is unknown (use exhaustive or random)")
        }
        try requireClips(slicing, source, split, trajectories, required: required, frames: frames, interval: interval)
        let statistics = try (loader.bool("normalize_action") ?? true) && wanted
            ? try inherited ?? ActionStatistics.of(source, split: split, trajectories: trajectories, progress: progress) : nil
        let resizeName = try loader.string("resize_mode") ?? "stretch"
        guard let resize = WorldModelDataset.ResizeMode(rawValue: resizeName) else {
            throw DataError("dataset.loader.resize_mode=\(resizeName) is unknown (use stretch or pad)")
        }
        return WorldModelDataset(source: source, split: split, trajectories: trajectories, slicing: slicing, clipLength: frames,
                                 frameInterval: interval, imageSize: try imageSize(config), resize: resize, statistics: statistics)
    }

    /// `model.image_size`: one number for square frames, or `[H, W]`.
    public static func imageSize(_ config: ConfigNode) throws -> (height: Int, width: Int) {
        let node = try config.value("model.image_size")
        if let side = node.int { return (side, side) }
        if let sides = node.array?.compactMap(\.int), [1, 2].contains(sides.count), sides.count == node.array?.count {
            return (sides[0], sides.last!)
        }
        throw DataError("model.image_size=\(ConfigYAML.flowText(node)) must be a number or [height, width]")
    }

    /// The model is built for `spec.action_dim` raw dimensions; other data cannot drive it.
    static func checkActionDimension(_ config: ConfigNode, _ source: TrajectorySource) throws {
        guard let declared = try config.optionalInt("dataset.spec.action_dim"), declared != source.actionDimension else { return }
        throw DataError("\(source.location): the actions are \(source.actionDimension)-dimensional but dataset.spec.action_dim is \(declared); set dataset.spec.action_dim=\(source.actionDimension)")
    }

    /// A split without a single clip is an error (upstream would train on nothing).
    static func requireClips(_ slicing: WorldModelDataset.Slicing, _ source: TrajectorySource, _ split: TrajectorySplit,
                             _ trajectories: [Int], required: Int, frames: Int, interval: Int) throws {
        let empty: Bool
        switch slicing {
        case .slices(let slices): empty = slices.isEmpty
        case .random(let sampler): empty = sampler.ranges.isEmpty
        }
        guard empty else { return }
        let longest = try trajectories.map { try source.trajectory($0).length }.max() ?? 0
        throw DataError("\(source.location): no \(split.rawValue) trajectory is long enough for a clip of model.num_frames=\(frames) × dataset.frame_interval=\(interval) = \(required) steps (\(trajectories.count) trajectories, the longest \(longest) steps); lower model.num_frames or dataset.frame_interval")
    }

    /// `val_start_indices`: a `.npy` of start frames, one per validation trajectory in split order.
    static func startIndices(_ loader: LoaderSettings, configRoot: URL? = nil) throws -> [Int]? {
        guard let path = try loader.string("val_start_indices") else { return nil }
        return try NumpyFile.integers(CSGOSource.resolve(path, configRoot: configRoot)).values.map { Int($0) }
    }

    // MARK: Fixed validation subset

    /// `_apply_fixed_validation_subset`, then the `validation_size` truncation.
    static func validationSubset(_ validation: WorldModelDataset, _ config: ConfigNode, runDirectory: URL?) throws
        -> (WorldModelDataset, URL?) {
        switch try ValidationSubset.choice(config, runDirectory: runDirectory, slices: {
            guard let slices = validation.slices else {
                throw DataError("a fixed validation subset needs dataset.loader.val_slice_mode=exhaustive")
            }
            return slices
        }) {
        case .first(let limit): return (validation.with(limit: limit), nil)
        case .subset(let slices, let file): return (validation.with(slicing: .slices(slices), limit: nil), file)
        }
    }

    /// The checks a run makes before it writes anything: the folders and files open, actions
    /// have `spec.action_dim` dimensions, both splits hold clips (statistics are left for later).
    public static func preflight(_ config: ConfigNode) throws {
        _ = try splits(config, progress: nil, statistics: false)
        _ = try imageSize(config)
    }

    /// A fresh subset of the validation split, for `nanowm data subset`.
    public static func drawSubset(_ config: ConfigNode, size: Int, seed: Int) throws -> ValidationSubset {
        let validation = try splits(config, progress: nil, statistics: false).validation
        guard let slices = validation.slices else { throw DataError("a fixed validation subset needs dataset.loader.val_slice_mode=exhaustive") }
        return ValidationSubset(dataset: try ValidationSubset.header(config), slices: try ValidationSubset.draw(from: slices, size: size, seed: seed))
    }
}

/// `dataset.loader.*` values; a missing or null key is nil (upstream drops `None` values).
public struct LoaderSettings {
    /// The configuration holding `dataset.loader`, read by full key so errors name it.
    let config: ConfigNode
    public init(_ config: ConfigNode) { self.config = config }
    /// Settings given as the `dataset.loader` mapping alone.
    public init(subtree: ConfigNode) { config = ["dataset": ["loader": subtree]] }

    func key(_ name: String) -> String { "dataset.loader.\(name)" }
    // Upstream's factories read loader keys with `.get`: an absent key means null. A wrong
    // type is still an error.
    public func string(_ name: String) throws -> String? { try config.ifPresent(key(name), config.optionalString) }
    public func int(_ name: String) throws -> Int? { try config.ifPresent(key(name), config.optionalInt) }
    public func double(_ name: String) throws -> Double? { try config.ifPresent(key(name), config.optionalDouble) }
    public func bool(_ name: String) throws -> Bool? { try config.ifPresent(key(name), config.optionalBool) }
}
