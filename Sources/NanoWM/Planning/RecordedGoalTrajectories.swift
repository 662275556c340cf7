import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// The trajectories the reference's `goal_source: dset` replays goals from, for a run trained
/// on a recorded DINO-WM dataset, read as its `_sample_dset_goals` reads them: the folder is
/// `dataset.loader.data_path_val`, else `data_path` (its `val/` subfolder when there is one),
/// a relative path also tried under `$DATASET_DIR`; states are `states.pth`, with
/// `velocities.pth` appended when `with_velocity` is set and the shapes agree; actions are
/// `rel_actions.pth` or `abs_actions.pth` (by `use_relative_actions`), else `actions.pth`,
/// divided by `action_scale`; lengths are `seq_lengths` (else every trajectory's full length);
/// PushT's `shapes.pkl` gives each trajectory's block as its layout.
public struct RecordedGoalTrajectories: GoalTrajectories {
    public let path: String
    let states: [[[Double]]]
    let actionRows: [[[Double]]]
    let lengths: [Int]
    let layouts: [[String: Double]]?

    /// - Parameter loader: the training run's `dataset.loader`.
    public init(training loader: LoaderSettings) throws {
        var folder: URL?
        for (key, value) in [("data_path_val", loader.dataPathValidation), ("data_path", loader.dataPath)] {
            guard let configured = value else { continue }
            var candidate = URL(fileURLWithPath: configured)
            if !configured.hasPrefix("/"), let root = ProcessInfo.processInfo.environment["DATASET_DIR"], !root.isEmpty {
                candidate = URL(fileURLWithPath: root).appendingPathComponent(configured.hasPrefix("./") ? String(configured.dropFirst(2)) : configured)
            }
            guard FileManager.default.fileExists(atPath: candidate.path) else { continue }
            let validation = candidate.appendingPathComponent("val")
            folder = key == "data_path" && FileManager.default.fileExists(atPath: validation.path) ? validation : candidate
            break
        }
        guard let folder else {
            throw DataError("planning.goal_source=dset: neither dataset.loader.data_path_val nor data_path of the training config names an existing folder; point dataset_dir at the recorded dataset")
        }
        let files = DinoWMFiles(path: folder.path, setting: "dataset.loader.data_path_val")
        path = files.path
        var states = try files.tensor("states.pth").to(.float64)
        if loader.withVelocity == true, files.exists("velocities.pth") {
            let velocities = try files.tensor("velocities.pth").to(.float64)
            if Array(velocities.shape.prefix(2)) == Array(states.shape.prefix(2)) { states = try Tensor.cat([states, velocities], dim: -1) }
        }
        let relative = loader.useRelativeActions ?? false
        let name = files.exists(relative ? "rel_actions.pth" : "abs_actions.pth") ? (relative ? "rel_actions.pth" : "abs_actions.pth") : "actions.pth"
        var actions = try files.tensor(name).to(.float64)
        if let scale = loader.actionScale, scale != 1 { actions = try actions / scale }
        guard states.shape.count == 3, actions.shape.count == 3, actions.shape[0] == states.shape[0] else {
            throw DataError("\(path): states \(states.shape) and \(name) \(actions.shape) are not [trajectories, steps, dims] of the same trajectories")
        }
        self.states = try Self.rows(states)
        actionRows = try Self.rows(actions)
        lengths = try files.sequenceLengths() ?? Array(repeating: states.shape[1], count: states.shape[0])
        guard lengths.count == states.shape[0], lengths.allSatisfy({ $0 <= Swift.min(states.shape[1], actions.shape[1] + 1) }) else {
            throw DataError("\(path): seq_lengths does not fit states \(states.shape) and \(name) \(actions.shape)")
        }
        layouts = try files.shapes().map { names in try names.map { ["shape": try PushTBlockShape(name: $0).layoutCode] } }
    }

    /// `[N, T, D]` as nested arrays.
    static func rows(_ tensor: Tensor) throws -> [[[Double]]] {
        let (n, t, d) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
        let flat = try tensor.contiguous().toArray(Double.self)
        return (0..<n).map { i in (0..<t).map { j in Array(flat[(i * t + j) * d ..< (i * t + j + 1) * d]) } }
    }

    public var count: Int { states.count }
    public func length(_ trajectory: Int) -> Int { lengths[trajectory] }
    public func state(_ trajectory: Int, at step: Int) throws -> [Double] { states[trajectory][step] }
    public func actions(_ trajectory: Int, from start: Int, count: Int) throws -> [[Double]] {
        Array(actionRows[trajectory][start ..< start + count])
    }
    public func layout(_ trajectory: Int) -> [String: Double]? { layouts?[trajectory] }
}
