import Foundation
import SwiftTorch
import NanoWMConfiguration

/// What `nanowm data` shows and writes about a recorded dataset: its summary lines, one item as
/// upstream's dataset returns it, and a fresh fixed validation subset.
public enum DatasetReport {
    /// Trajectories, clips per split, action dimension and statistics.
    public static func summary(_ settings: DatasetSettings, progress: ((Int, Int) -> Void)? = nil) throws -> [String] {
        let datasets = try RecordedDatasets(settings, progress: progress)
        let train = datasets.train, validation = datasets.validation
        var lines = ["dataset \(settings.name): \(train.source.location)"
                     + (validation.source !== train.source ? " (validation: \(validation.source.location))" : "")]
        if validation.source === train.source {
            lines.append("trajectories: \(train.source.trajectoryCount) (train \(train.trajectories.count), validation \(validation.trajectories.count))")
        } else {
            lines.append("trajectories: train \(train.trajectories.count) (training folder), validation \(validation.trajectories.count) (validation folder)")
        }
        let validationNote = datasets.subsetFile.map { " (fixed subset \($0.path))" } ?? (validation.limit.map { " (at most the first \($0): dataset.loader.validation_size)" } ?? "")
        lines.append("clips of \(train.clipLength) frames every \(train.frameInterval) steps (\(train.requiredSteps) raw steps): train \(train.count)\(modeNote(train)), validation \(validation.count)\(validationNote)")
        lines.append("frames: \(train.frameShape.map(String.init).joined(separator: "×")) (model.image_size, resize \(train.resize.rawValue))")
        lines.append("action dimension: \(train.source.actionDimension) per step × frame_interval \(train.frameInterval) = \(train.actionDimension) (dataset.spec.action_dim \(settings.actionDimension.map(String.init) ?? "unset"))")
        if let statistics = train.statistics {
            lines.append("action mean (train): \(try numbers(statistics.mean))")
            lines.append("action std  (train, +1e-6): \(try numbers(statistics.std))")
            if let own = validation.statistics, validation.source !== train.source {
                lines.append("action mean (validation folder): \(try numbers(own.mean))")
                lines.append("action std  (validation folder, +1e-6): \(try numbers(own.std))")
            }
        } else {
            lines.append("actions are used as recorded (dataset.loader.normalize_action false)")
        }
        return lines
    }

    static func modeNote(_ dataset: WorldModelDataset) -> String {
        if case .random = dataset.slicing { return " (random starts, one clip per trajectory and epoch)" }
        return ""
    }

    static func numbers(_ tensor: Tensor) throws -> String {
        "[" + (try tensor.toArray(Float.self)).map { String(format: "%.6g", $0) }.joined(separator: ", ") + "]"
    }

    /// Item `index` of a split as upstream's dataset returns it: `video` `[T, 3, H, W]` in
    /// [−1, 1] and `action` `[T, A]`. The validation split is the whole split (before a fixed
    /// subset or `validation_size` narrows what training validates on).
    public static func item(_ settings: DatasetSettings, split: TrajectorySplit, index: Int) throws -> (video: Tensor, action: Tensor, slice: ClipSlice) {
        let splits = try RecordedDatasets.splits(settings, progress: nil)
        let dataset = split == .train ? splits.train : splits.validation
        let slice = try dataset.slice(at: index)
        let item = try dataset.load(slice)
        return (try item.frames * 2.0 - 1.0, item.actions, slice)
    }
}
