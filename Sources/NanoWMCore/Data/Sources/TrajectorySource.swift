import Foundation
import NanoWMFormats
import SwiftTorch

/// One trajectory's metadata as a data source keeps it in memory (upstream's `TrajectoryData`):
/// everything but the frames, which are read on demand.
public struct TrajectoryRecord {
    /// `[maxT, S]` float32; `S` is 0 for sources without states (CSGO).
    public var states: Tensor
    /// `[maxT, a]` float32, already divided by the source's `action_scale`.
    public var actions: Tensor
    /// Valid steps (rows past it are padding).
    public var length: Int
    /// Source-specific extras upstream puts into a batch's `metadata` (PushT's shape name,
    /// CSGO's `episode_id`, LeRobot's `episode_index`); unused by the model.
    public var meta: [String: String]

    public init(states: Tensor, actions: Tensor, length: Int, meta: [String: String] = [:]) {
        self.states = states
        self.actions = actions
        self.length = length
        self.meta = meta
    }
}

/// One on-disk dataset format (upstream's `DataSource`): per-trajectory metadata in memory and
/// frames loaded for a half-open range with a step. Slicing into clips, splits, action
/// statistics, chunking, resizing and pixel mapping are done once, above this, for every format.
public protocol TrajectorySource: AnyObject {
    /// What errors name: the dataset's folder or file.
    var location: String { get }
    var trajectoryCount: Int { get }
    /// Per-step action dimension `a` (before chunking by the frame interval).
    var actionDimension: Int { get }
    var stateDimension: Int { get }
    func trajectory(_ index: Int) throws -> TrajectoryRecord
    /// Frames `start, start+step, … < end` of trajectory `index`: float32 `[n, 3, H0, W0]` in
    /// [0, 1] at the native resolution, RGB.
    func frames(_ index: Int, start: Int, end: Int, step: Int) throws -> Tensor
    /// Whole-dataset action statistics the files themselves carry (LeRobot's
    /// `meta/stats.json`), `std` without upstream's +1e-6; nil when the format has none.
    func shippedActionStatistics() throws -> (mean: Tensor, std: Tensor)?
    /// The identity upstream hashes into its statistics-cache name (`"root=…"`,
    /// `"data_path=…"`, `"repo_id=…"`) and the folder that holds `wm_stats_cache/`.
    var statisticsIdentity: (id: String, root: URL?) { get }
}

extension TrajectorySource {
    public func shippedActionStatistics() throws -> (mean: Tensor, std: Tensor)? { nil }

    /// Trajectory `index` with every action finite: a NaN or infinite action would train to a
    /// NaN loss (or poison the action statistics), so it is refused, naming where it is.
    public func finiteTrajectory(_ index: Int) throws -> TrajectoryRecord {
        let record = try trajectory(index)
        try requireFinite(record.actions, "actions", trajectory: index)
        return record
    }

    /// Frames `[n, 3, H, W]` of trajectory `index` (from `start`, every `step`) refused when any
    /// value is NaN or infinite.
    public func requireFinite(frames: Tensor, trajectory index: Int, start: Int, step: Int) throws {
        try requireFinite(frames, "frames", trajectory: index, start: start, step: step)
    }

    private func requireFinite(_ values: Tensor, _ what: String, trajectory index: Int, start: Int = 0, step: Int = 1) throws {
        guard values.dtype.isFloatingPoint, !(try values.isfinite().all().item(Bool.self)) else { return }
        // The first row holding a non-finite value: argmax of a 0/1 row flag finds it.
        let flags = try values.isfinite().logicalNot()
        let bad = try (flags.rank == 1 ? flags.unsqueeze(1) : flags.flatten(start: 1)).any(dims: [1]).to(.int32)
        let row = try bad.argmax().item(Int.self)
        throw DataError("\(location): trajectory \(index) has NaN or infinite \(what) at step \(start + row * step); fix or drop that trajectory")
    }
}
