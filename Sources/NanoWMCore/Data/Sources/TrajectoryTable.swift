import Foundation
import SwiftTorch
import NanoWMFormats

/// The in-memory part of a DINO-WM dataset: states `[N, maxT, S]`, actions `[N, maxT, a]`
/// (already divided by `action_scale`), valid lengths and per-trajectory extras, checked for
/// agreeing shapes and cut to `n_rollout` trajectories as upstream cuts them.
struct TrajectoryTable {
    var states: Tensor
    var actions: Tensor
    var lengths: [Int]
    var meta: [[String: String]]

    init(states: Tensor, actions: Tensor, lengths: [Int]?, meta: [[String: String]]?, actionScale: Double,
         limit: Int?, files: DinoWMFiles, actionFile: String) throws {
        let folder = files.folder.path
        guard states.rank == 3 else { throw DataError("\(folder)/states.pth: shape \(states.shape); expected [N, T, S]") }
        guard actions.rank == 3, actions.shape[0] == states.shape[0], actions.shape[1] == states.shape[1] else {
            throw DataError("\(folder)/\(actionFile): shape \(actions.shape) does not match states.pth \(states.shape) in [N, T]; the two files belong to different datasets")
        }
        let count = Swift.min(limit ?? states.shape[0], states.shape[0]), maxT = states.shape[1]
        let lengths = lengths ?? Array(repeating: maxT, count: states.shape[0])
        guard lengths.count >= count else {
            throw DataError("\(folder)/seq_lengths: \(lengths.count) lengths for \(count) trajectories; the file belongs to another dataset")
        }
        if let bad = lengths.prefix(count).firstIndex(where: { $0 < 0 || $0 > maxT }) {
            throw DataError("\(folder)/seq_lengths: trajectory \(bad) has length \(lengths[bad]) but states.pth holds \(maxT) steps")
        }
        self.states = try states.to(.float32).narrow(dim: 0, start: 0, length: count)
        var actions = try actions.to(.float32).narrow(dim: 0, start: 0, length: count)
        if actionScale != 1 { actions = try actions / actionScale }
        self.actions = actions
        self.lengths = Array(lengths.prefix(count))
        self.meta = Array((meta ?? Array(repeating: [:], count: count)).prefix(count))
        guard self.meta.count == count else {
            throw DataError("\(folder)/shapes.pkl: \(self.meta.count) entries for \(count) trajectories")
        }
    }

    var count: Int { lengths.count }

    func record(_ index: Int, location: String) throws -> TrajectoryRecord {
        guard index >= 0, index < count else { throw DataError("\(location): trajectory \(index) is out of range 0..<\(count)") }
        return TrajectoryRecord(states: try states[index], actions: try actions[index], length: lengths[index], meta: meta[index])
    }

    /// `shapes.pkl` as per-trajectory meta.
    static func shapeMeta(_ shapes: [String]?) -> [[String: String]]? { shapes.map { $0.map { ["shape": $0] } } }
}
