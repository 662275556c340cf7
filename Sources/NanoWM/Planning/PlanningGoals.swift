import Foundation
import PythonCompatible
import NanoWMFormats
import NanoWMCore

/// One episode's task: where it starts, the state to reach, the environment layout it needs and
/// what upstream records about where the goal came from (`goal_meta`). Dataset goals also keep
/// the start and goal frames observed while replaying.
public struct PlanningGoal {
    public var initialState: [Double]
    public var goalState: [Double]
    public var layout: [String: Double]?
    /// `goal_meta`, JSON-ready.
    public var meta: [String: Any]
    public var initialFrame: RGBImage?
    public var goalFrame: RGBImage?
}

/// Recorded trajectories that dataset goals (`goal_source: dset`) are replayed from.
public protocol GoalTrajectories {
    /// The folder named in `goal_meta.val_path`.
    var path: String { get }
    var count: Int { get }
    func length(_ trajectory: Int) -> Int
    func state(_ trajectory: Int, at step: Int) throws -> [Double]
    /// `count` raw environment actions from `start`.
    func actions(_ trajectory: Int, from start: Int, count: Int) throws -> [[Double]]
    /// The environment layout the trajectory was recorded in, if it varies.
    func layout(_ trajectory: Int) -> [String: Double]?
}

public enum PlanningGoals {
    /// `goal_source: random_state`: the environment's own draw from `seed + episode`.
    public static func random(_ environment: any PlanningEnvironment, episodes: Int, seed: Int) -> [PlanningGoal] {
        (0..<episodes).map { episode in
            let pair = environment.randomInitAndGoal(seed: UInt64(seed + episode))
            return PlanningGoal(initialState: pair.initial, goalState: pair.goal, layout: nil,
                                meta: ["source": "random_state", "episode": episode, "seed": seed + episode])
        }
    }

    /// `goal_source: dset`, as upstream draws it: with Python's `random.Random(seed)`, per episode
    /// a trajectory (`choice` among those of at least `frameInterval·goalH + 1` steps) and an
    /// offset (`randint`); the goal is where replaying the next `frameInterval·goalH` recorded
    /// actions from the state at the offset leads (episode seed `seed + episode`).
    public static func replayed(_ environment: any PlanningEnvironment, from data: any GoalTrajectories, episodes: Int, seed: Int,
                                                        goalH: Int, frameInterval: Int) throws -> [PlanningGoal] {
        var environment = environment
        let span = frameInterval * goalH + 1
        let valid = (0..<data.count).filter { data.length($0) >= span }
        guard !valid.isEmpty else {
            throw DataError("\(data.path): no trajectory has the \(span) steps a goal \(goalH) planner steps away needs (frame_interval \(frameInterval)); lower planning.goal_H")
        }
        var random = PythonRandom(seed: UInt64(seed))
        return try (0..<episodes).map { episode in
            let trajectory = random.choice(valid)
            let offset = random.randint(0, data.length(trajectory) - span)
            let layout = data.layout(trajectory)
            if let layout { try environment.applyLayout(layout) }
            let initial = try data.state(trajectory, at: offset)
            try environment.reset(to: initial, seed: UInt64(seed + episode))
            let startFrame = try environment.render()
            for action in try data.actions(trajectory, from: offset, count: span - 1) { try environment.step(action) }
            let meta: [String: Any] = ["source": "dset", "episode": episode, "seed": seed + episode, "val_path": data.path,
                                       "traj_id": trajectory, "offset": offset, "traj_len": span,
                                       "frame_interval": frameInterval, "goal_H": goalH]
            return PlanningGoal(initialState: initial, goalState: environment.state, layout: layout, meta: meta,
                                initialFrame: startFrame, goalFrame: try environment.render())
        }
    }
}

/// The built-in wall dataset's held-out episodes as goal trajectories: states and actions are
/// regenerated from the dataset's seed (the store keeps frames and actions only); actions are
/// the stored float32 values.
public struct BuiltinWallTrajectories: GoalTrajectories {
    public let path: String
    public let episodes: [Int]
    public let manifest: TrajectoryStore.Manifest

    public init(store: TrajectoryStore, episodes: [Int]) {
        (path, self.episodes, manifest) = (store.directory.path, episodes, store.manifest)
    }

    public var count: Int { episodes.count }
    public func length(_ trajectory: Int) -> Int { manifest.episodeLength }

    private func walk(_ trajectory: Int) -> (positions: [(x: Double, y: Double)], actions: [(Double, Double)]) {
        let walk = WallDataGenerator.walk(episodes[trajectory], length: manifest.episodeLength, seed: manifest.seed)
        return (walk.positions, walk.actions)
    }

    public func state(_ trajectory: Int, at step: Int) throws -> [Double] {
        let p = walk(trajectory).positions[step]
        return [p.x, p.y]
    }

    public func actions(_ trajectory: Int, from start: Int, count: Int) throws -> [[Double]] {
        walk(trajectory).actions[start..<(start + count)].map { [Double(Float($0.0)), Double(Float($0.1))] }
    }

    public func layout(_ trajectory: Int) -> [String: Double]? { nil }
}
