import Foundation
import NanoWMFormats

/// The small interface planning needs from a simulator (upstream's env wrappers): reset to a
/// state, step with one raw action, render, report the state, and judge success. Every
/// environment is deterministic given its seed, so a planning run repeats exactly.
public protocol PlanningEnvironment {
    /// Per-step action dimension `a` (the model's action is `frame_interval` of these).
    var actionDimension: Int { get }
    /// The state vector upstream reports (`[x, y]` for the wall, 7-D for PushT, …).
    var state: [Double] { get }
    /// Resets to `state` (and the environment's own randomness to `seed`).
    mutating func reset(to state: [Double], seed: UInt64) throws
    /// One raw environment step; returns true when the environment reports the episode done.
    @discardableResult mutating func step(_ action: [Double]) throws -> Bool
    /// The current frame (upstream renders 224×224).
    func render() throws -> RGBImage
    /// Upstream's success test and distances for a goal state against the current one.
    func evaluate(goal: [Double], current: [Double]) -> PlanningOutcome
    /// Applies a per-episode layout (the wall's door and wall positions, PushT's block shape);
    /// environments without one ignore it.
    mutating func applyLayout(_ layout: [String: Double]) throws
    /// A random start and goal state pair, reproducible from `seed` (`goal_source: random_state`).
    func randomInitAndGoal(seed: UInt64) -> (initial: [Double], goal: [Double])
}

/// What `eval_state` reports: success and the distances upstream logs (nil where undefined).
public struct PlanningOutcome: Equatable, Sendable {
    public var success: Bool
    public var stateDistance: Double
    public var xyDistance: Double?
    public var pos4Distance: Double?
    public var angleDistance: Double?
    public init(success: Bool, stateDistance: Double, xyDistance: Double? = nil, pos4Distance: Double? = nil,
                angleDistance: Double? = nil) {
        self.success = success
        self.stateDistance = stateDistance
        self.xyDistance = xyDistance
        self.pos4Distance = pos4Distance
        self.angleDistance = angleDistance
    }
}
