import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats

/// Upstream's dataset factories (`create_data_source`, `create_train_val_datasets` and the
/// training experiment's fixed-subset and `validation_size` steps) for the recorded datasets,
/// driven by the same settings: `dataset.name`, `dataset.frame_interval`, `dataset.loader.*`,
/// `model.num_frames`, `model.image_size` (`DatasetSettings`).
public struct RecordedDatasets {
    /// The dataset names upstream supports; the built-in environment is separate.
    public static let names = ["point_maze", "wall", "pusht", "rope", "granular", "csgo", "rt1"]

    public let train: WorldModelDataset
    /// Already the fixed subset, or truncated to `validation_size`, as training validates on it.
    public let validation: WorldModelDataset
    /// The subset file read or written, when a fixed subset is configured.
    public let subsetFile: URL?

    let settings: DatasetSettings

    /// - Parameters:
    ///   - runDirectory: where `validation_subset.json` goes when no path is configured (no
    ///     file is written without one).
    ///   - progress: called while action statistics are computed for the first time.
    ///   - checked: the splits `preflight` opened and checked, completed here instead of opened again.
    public init(_ settings: DatasetSettings, checked: CheckedSplits? = nil, runDirectory: URL? = nil,
                progress: ((Int, Int) -> Void)? = nil) throws {
        self.settings = settings
        let splits = try checked.map { try Self.completing($0, settings, progress: progress) } ?? Self.splits(settings, progress: progress)
        train = splits.train
        (validation, subsetFile) = try Self.validationSubset(splits.validation, settings, runDirectory: runDirectory)
    }

    // MARK: Sources

    /// `create_data_source`: the reader for `dataset.name` over one folder.
    static func source(_ settings: DatasetSettings, path: String?, pathKey: String) throws -> TrajectorySource {
        let name = settings.name, loader = settings.loader
        let limit = try loader.rolloutCount()
        switch name {
        case "point_maze", "wall", "pusht", "rope", "granular":
            guard let path else { throw DataError("dataset '\(name)': set \(pathKey) (or dataset_dir=…) to the dataset's folder") }
            switch name {
            case "pusht":
                guard let relative = loader.useRelativeActions else {
                    throw DataError("dataset 'pusht' needs dataset.loader.use_relative_actions=true|false (upstream requires it)")
                }
                return try PushTSource(path: path, useRelativeActions: relative, actionScale: loader.actionScale ?? 100,
                                       limit: limit, setting: pathKey)
            case "rope", "granular":
                return try DeformableSource(path: path, objectName: loader.objectName ?? name,
                                            actionScale: loader.actionScale ?? 1, limit: limit)
            default:
                return try DinoWMSource(path: path, actionScale: loader.actionScale ?? 1, limit: limit,
                                        useRelativeActions: loader.useRelativeActions ?? true, setting: pathKey)
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
    static func splits(_ settings: DatasetSettings, progress: ((Int, Int) -> Void)?, statistics: Bool = true) throws -> (train: WorldModelDataset, validation: WorldModelDataset) {
        let loader = settings.loader
        let ratio = loader.splitRatio ?? 0.9
        let trainList = loader.trainFileList, validationList = loader.validationFileList
        let trainPath = loader.dataPathTrain, validationPath = loader.dataPathValidation
        let dataPath = loader.dataPath
        if let trainList, let validationList {
            // File lists (CSGO): a source per list; each split takes all of its own, shuffled.
            _ = (trainList, validationList, dataPath)
            guard settings.name == "csgo" else {
                throw DataError("dataset.loader.train_file_list/val_file_list are read by the CSGO reader only; remove them for dataset '\(settings.name)'")
            }
            let trainSource = try CSGOSource.make(loader: loader, split: .train).source
            let (validationSource, starts) = try CSGOSource.make(loader: loader, split: .val)
            let train = try build(settings, trainSource, .train, ratio: 1, progress: progress, statistics: statistics)
            let validation = try build(settings, validationSource, .val, ratio: 0, fixedStarts: starts,
                                       progress: progress, statistics: statistics)
            return (train, validation)
        }
        if trainPath != nil || validationPath != nil {
            // Separate folders (PushT): validation statistics come from the validation folder, as upstream.
            let trainSource = try source(settings, path: trainPath ?? dataPath, pathKey: "dataset.loader.data_path_train")
            let validationSource = try source(settings, path: validationPath ?? dataPath, pathKey: "dataset.loader.data_path_val")
            let train = try build(settings, trainSource, .train, ratio: 1, progress: progress, statistics: statistics)
            let validation = try build(settings, validationSource, .val, ratio: 0, fixedStarts: try startIndices(loader),
                                       progress: progress, statistics: statistics)
            return (train, validation)
        }
        // One source: validation reuses the training statistics.
        let shared = try source(settings, path: dataPath, pathKey: "dataset.loader.data_path")
        let train = try build(settings, shared, .train, ratio: ratio, progress: progress, statistics: statistics)
        let validation = try build(settings, shared, .val, ratio: ratio, fixedStarts: try startIndices(loader), inherited: train.statistics,
                                   progress: progress, statistics: statistics)
        return (train, validation)
    }

    /// `WorldModelDataset.__init__`: split, slicing, statistics.
    static func build(_ settings: DatasetSettings, _ source: TrajectorySource, _ split: TrajectorySplit, ratio: Double,
                      fixedStarts: [Int]? = nil, inherited: ActionStatistics? = nil,
                      progress: ((Int, Int) -> Void)?, statistics wanted: Bool = true) throws -> WorldModelDataset {
        let loader = settings.loader
        try checkActionDimension(settings, source)
        let frames = settings.clipFrames, interval = settings.frameInterval
        guard frames > 0 else { throw DataError("model.num_frames must be positive") }
        let required = frames * interval, seed = loader.randomSeed ?? 42
        let trajectories = try split.trajectories(count: source.trajectoryCount, ratio: ratio, seed: seed)
        let length = { (index: Int) in try source.trajectory(index).length }
        let modeKey = split == .train ? "train_slice_mode" : "val_slice_mode"
        let slicing: WorldModelDataset.Slicing
        switch (split == .train ? loader.trainSliceMode : loader.validationSliceMode) ?? "exhaustive" {
        case "exhaustive":
            let slices = try fixedStarts.map { try ClipSlicing.fixedStarts(trajectories, starts: $0, length: length, required: required) }
                ?? ClipSlicing.exhaustive(trajectories, length: length, required: required, stride: loader.stride ?? 1)
            slicing = .slices(slices)
        case "random":
            slicing = .random(try randomSampler(source, trajectories, required: required, settings))
        case let other:
            throw DataError("dataset.loader.\(modeKey)=\(other) is unknown (use exhaustive or random)")
        }
        try requireClips(slicing, source, split, trajectories, required: required, frames: frames, interval: interval)
        let statistics = wanted ? try actionStatistics(settings, source, split, trajectories, inherited: inherited, progress: progress) : nil
        let resizeName = loader.resizeMode ?? "stretch"
        guard let resize = WorldModelDataset.ResizeMode(rawValue: resizeName) else {
            throw DataError("dataset.loader.resize_mode=\(resizeName) is unknown (use stretch or pad)")
        }
        return WorldModelDataset(source: source, split: split, trajectories: trajectories, slicing: slicing, clipLength: frames,
                                 frameInterval: interval, imageSize: try imageSize(settings), resize: resize, statistics: statistics)
    }

    /// The raw action statistics when `normalize_action` (default true) asks for them: the
    /// training split's when given (`inherited`), else computed (or read from upstream's cache).
    static func actionStatistics(_ settings: DatasetSettings, _ source: TrajectorySource, _ split: TrajectorySplit, _ trajectories: [Int],
                                 inherited: ActionStatistics?, progress: ((Int, Int) -> Void)?) throws -> ActionStatistics? {
        guard settings.loader.normalizeAction ?? true else { return nil }
        return try inherited ?? ActionStatistics.of(source, split: split, trajectories: trajectories, progress: progress)
    }

    /// Random slicing's sampler, seeded with `random_seed` (default 42), that has drawn nothing yet.
    static func randomSampler(_ source: TrajectorySource, _ trajectories: [Int], required: Int, _ settings: DatasetSettings) throws
        -> RandomClipSampler {
        try RandomClipSampler(trajectories, length: { try source.trajectory($0).length }, required: required,
                              seed: settings.loader.randomSeed ?? 42)
    }

    /// `model.image_size`: one number for square frames, or `[H, W]`.
    public static func imageSize(_ settings: DatasetSettings) throws -> (height: Int, width: Int) {
        guard let size = settings.imageSize else {
            throw DataError("model.image_size is not set; set it to the frames' side (or [height, width]) the model is trained at")
        }
        return size
    }

    /// The model is built for `spec.action_dim` raw dimensions; other data cannot drive it.
    static func checkActionDimension(_ settings: DatasetSettings, _ source: TrajectorySource) throws {
        guard let declared = settings.actionDimension, declared != source.actionDimension else { return }
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
        guard let path = loader.validationStartIndices else { return nil }
        return try NumpyFile.integers(CSGOSource.resolve(path, configRoot: configRoot)).values.map { Int($0) }
    }

    // MARK: Fixed validation subset

    /// `_apply_fixed_validation_subset`, then the `validation_size` truncation.
    static func validationSubset(_ validation: WorldModelDataset, _ settings: DatasetSettings, runDirectory: URL?) throws
        -> (WorldModelDataset, URL?) {
        switch try ValidationSubset.choice(settings, runDirectory: runDirectory, slices: {
            guard let slices = validation.slices else {
                throw DataError("a fixed validation subset needs dataset.loader.val_slice_mode=exhaustive")
            }
            return slices
        }) {
        case .first(let limit): return (validation.with(limit: limit), nil)
        case .subset(let slices, let file): return (validation.with(slicing: .slices(slices), limit: nil), file)
        }
    }

    /// Both splits opened and checked, without action statistics: what `preflight` leaves for
    /// the run to complete, so that the run does not open the dataset again.
    public struct CheckedSplits {
        let train: WorldModelDataset
        let validation: WorldModelDataset
    }

    /// The checks a run makes before it writes anything: the folders and files open, actions
    /// have `spec.action_dim` dimensions, both splits hold clips (statistics are left for later).
    public static func preflight(_ settings: DatasetSettings) throws -> CheckedSplits {
        let splits = try splits(settings, progress: nil, statistics: false)
        _ = try imageSize(settings)
        return CheckedSplits(train: splits.train, validation: splits.validation)
    }

    /// Checked splits made whole, as `splits` builds them: action statistics (the validation
    /// split takes the training split's when they share a source) and, for random slicing, a
    /// sampler of its own that has drawn nothing yet.
    static func completing(_ checked: CheckedSplits, _ settings: DatasetSettings, progress: ((Int, Int) -> Void)?) throws
        -> (train: WorldModelDataset, validation: WorldModelDataset) {
        func complete(_ dataset: WorldModelDataset, inherited: ActionStatistics?) throws -> WorldModelDataset {
            let statistics = try actionStatistics(settings, dataset.source, dataset.split, dataset.trajectories,
                                                  inherited: inherited, progress: progress)
            var slicing = dataset.slicing
            if case .random = slicing {
                slicing = .random(try randomSampler(dataset.source, dataset.trajectories, required: dataset.requiredSteps, settings))
            }
            return WorldModelDataset(source: dataset.source, split: dataset.split, trajectories: dataset.trajectories, slicing: slicing,
                                     clipLength: dataset.clipLength, frameInterval: dataset.frameInterval, imageSize: dataset.imageSize,
                                     resize: dataset.resize, statistics: statistics, limit: dataset.limit)
        }
        let train = try complete(checked.train, inherited: nil)
        let shared = checked.validation.source === checked.train.source
        return (train, try complete(checked.validation, inherited: shared ? train.statistics : nil))
    }

    /// A fresh subset of the validation split, for `nanowm data subset`.
    public static func drawSubset(_ settings: DatasetSettings, size: Int, seed: Int) throws -> ValidationSubset {
        let validation = try splits(settings, progress: nil, statistics: false).validation
        guard let slices = validation.slices else { throw DataError("a fixed validation subset needs dataset.loader.val_slice_mode=exhaustive") }
        return ValidationSubset(dataset: settings.subsetHeader, slices: try ValidationSubset.draw(from: slices, size: size, seed: seed))
    }
}
