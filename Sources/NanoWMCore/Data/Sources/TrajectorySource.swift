import Foundation
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
}
