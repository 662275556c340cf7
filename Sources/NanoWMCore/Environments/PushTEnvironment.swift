import CChipmunk
import Foundation
import SwiftTorch
import PythonCompatible
import NanoWMFormats

/// Upstream's PushT planning environment (`PushTWrapper` over `PushTEnv`, pymunk on Chipmunk2D):
/// push the T block onto the green goal zone with a disc agent. Physics run on Debian's Chipmunk
/// 7.0.3, the engine pymunk 6.2.1 wraps, with the same calls in the same order, so states match
/// pymunk's to the last bit on the same machine. Sim 100 Hz, control 10 Hz: each action is a
/// relative target (agent position + action·100) tracked by a PD controller (k_p 100, k_v 20)
/// over 10 substeps. State `[agent_x, agent_y, block_x, block_y, block_angle mod 2π, agent_vx,
/// agent_vy]` (5-D without velocity), reported in float32 as upstream's observation is.
public final class PushTEnvironment: PlanningEnvironment {
    /// How upstream's NumPy arithmetic treats an action (see `step`).
    public enum ActionPrecision: Sendable {
        /// Actions arrive as float32 arrays, as in upstream's planning loop and goal replay
        /// (torch tensors → `.numpy()`): NumPy 2 keeps the PD target and velocity update in float32.
        case float32
        /// Actions arrive as float64 arrays: the PD control runs in float64.
        case float64
    }

    public struct Options: Sendable {
        public var withVelocity = true
        public var withTarget = true
        public var relative = true
        public var actionScale = 100.0
        /// Upstream's `legacy` flag: set the block's position before its angle.
        public var legacy = false
        public var shape = PushTBlockShape.tee
        public var actionPrecision = ActionPrecision.float32
        public var renderSize = 224
        public init() {}
    }

    public static let simHz = 100, controlHz = 10
    public static let kP = 100.0, kV = 20.0
    /// Upstream's fixed goal pose `(256, 256, π/4)`.
    public static let goalPose = (x: 256.0, y: 256.0, angle: Double.pi / 4)

    public private(set) var options: Options
    private var scene: PushTScene
    public private(set) var seed: UInt64 = 0
    /// Control steps taken since the last reset.
    public private(set) var stepCount = 0

    public init(options: Options = Options()) {
        self.options = options
        scene = PushTScene(shape: options.shape)
    }

    public var actionDimension: Int { 2 }
    public var stateDimension: Int { options.withVelocity ? 7 : 5 }

    /// The state in float64, before upstream's float32 cast (the angle already wrapped to [0, 2π)).
    public var exactState: [Double] {
        let agent = scene.agentPosition, block = scene.blockPosition, velocity = scene.agentVelocity
        var values = [agent.x, agent.y, block.x, block.y, Self.wrappedAngle(scene.blockAngle)]
        if options.withVelocity { values += [velocity.x, velocity.y] }
        return values
    }

    /// Upstream's observation state: `exactState` rounded to float32.
    public var state: [Double] { exactState.map { Double(Float($0)) } }

    /// The raw Chipmunk values `[agent x, y, block x, y, angle (unwrapped), agent vx, vy]`.
    public var bodyValues: [Double] {
        let agent = scene.agentPosition, block = scene.blockPosition, velocity = scene.agentVelocity
        return [agent.x, agent.y, block.x, block.y, scene.blockAngle, velocity.x, velocity.y]
    }

    /// Python's `angle % (2π)` on a NumPy float64 (floored modulo, result in [0, 2π)).
    static func wrappedAngle(_ angle: Double) -> Double {
        let period = 2 * Double.pi
        var remainder = fmod(angle, period)
        if remainder != 0 && remainder < 0 { remainder += period }
        return remainder == 0 ? 0 : remainder
    }

    /// Upstream's `prepare(seed, state)`: a fresh scene, then the state set (agent velocity,
    /// agent position, block angle, block position) and one physics step.
    public func reset(to state: [Double], seed: UInt64) throws {
        guard state.count == 5 || state.count == 7 else {
            throw PushTError("a PushT state has 5 values [agent_x, agent_y, block_x, block_y, angle] or 7 (plus agent_vx, agent_vy); got \(state.count)")
        }
        if let bad = state.firstIndex(where: { !$0.isFinite || abs($0) > 1e9 }) {
            throw PushTError("PushT state value \(bad) is \(state[bad]); every value must be finite and within ±1e9")
        }
        self.seed = seed
        stepCount = 0
        scene = PushTScene(shape: options.shape)
        let velocity = options.withVelocity && state.count == 7 ? cpVect(x: state[5], y: state[6]) : cpVect(x: 0, y: 0)
        scene.setState(agent: cpVect(x: state[0], y: state[1]), agentVelocity: velocity,
                       block: cpVect(x: state[2], y: state[3]), angle: state[4], legacyOrder: options.legacy,
                       dt: 1.0 / Double(Self.simHz))
    }

    /// One control step: the action (relative, ×`actionScale`) sets the PD target, then 10
    /// substeps each update the agent's velocity and step the physics. Never reports done
    /// (upstream's `done` is always False).
    @discardableResult
    public func step(_ action: [Double]) throws -> Bool {
        guard action.count == 2 else { throw PushTError("a PushT action has 2 values (dx, dy); got \(action.count)") }
        guard action.allSatisfy({ $0.isFinite && abs($0) < 1e6 }) else {
            throw PushTError("PushT action \(action) must be finite and within ±1e6")
        }
        let dt = 1.0 / Double(Self.simHz)
        switch options.actionPrecision {
        case .float64: stepFloat64(action, dt: dt)
        case .float32: stepFloat32(action, dt: dt)
        }
        stepCount += 1
        return false
    }

    private func stepFloat64(_ action: [Double], dt: Double) {
        var target = (x: action[0] * options.actionScale, y: action[1] * options.actionScale)
        if options.relative {
            let p = scene.agentPosition
            target = (p.x + target.x, p.y + target.y)
        }
        for _ in 0..<(Self.simHz / Self.controlHz) {
            let p = scene.agentPosition, v = scene.agentVelocity
            let ax = Self.kP * (target.x - p.x) + Self.kV * (0 - v.x)
            let ay = Self.kP * (target.y - p.y) + Self.kV * (0 - v.y)
            scene.setAgentVelocity(cpVect(x: v.x + ax * dt, y: v.y + ay * dt))
            scene.step(dt)
        }
    }

    /// NumPy 2 (NEP 50) with a float32 action: Python floats meeting a float32 become float32,
    /// so the target, the P term, the acceleration and the new velocity are float32 roundings
    /// (the D term is computed in float64 and then rounded).
    private func stepFloat32(_ action: [Double], dt: Double) {
        let scale = Float(options.actionScale)
        var target = (x: Float(action[0]) * scale, y: Float(action[1]) * scale)
        if options.relative {
            let p = scene.agentPosition
            target = (Float(p.x) + target.x, Float(p.y) + target.y)
        }
        let step32 = Float(dt)
        for _ in 0..<(Self.simHz / Self.controlHz) {
            let p = scene.agentPosition, v = scene.agentVelocity
            let ax = Float(Self.kP) * (target.x - Float(p.x)) + Float(Self.kV * (0 - v.x))
            let ay = Float(Self.kP) * (target.y - Float(p.y)) + Float(Self.kV * (0 - v.y))
            scene.setAgentVelocity(cpVect(x: Double(Float(v.x) + ax * step32), y: Double(Float(v.y) + ay * step32)))
            scene.step(dt)
        }
    }

    /// Upstream's frame: 224×224 RGB (see `PushTRenderer`).
    public func render() throws -> RGBImage {
        try PushTRenderer.render(scene, goalPose: Self.goalPose, withTarget: options.withTarget, size: options.renderSize)
    }

    /// Upstream's `eval_state`: success when ‖goal[:4] − cur[:4]‖ < 20 and the wrapped angle
    /// difference < π/9; `state_dist` over the whole state.
    public func evaluate(goal: [Double], current: [Double]) -> PlanningOutcome {
        let n = min(goal.count, current.count)
        func distance(_ range: Range<Int>) -> Double {
            range.reduce(0.0) { $0 + (goal[$1] - current[$1]) * (goal[$1] - current[$1]) }.squareRoot()
        }
        let pos4 = distance(0..<min(4, n))
        var angle = n > 4 ? abs(goal[4] - current[4]) : 0
        angle = min(angle, 2 * Double.pi - angle)
        return PlanningOutcome(success: n > 4 && pos4 < 20 && angle < Double.pi / 9, stateDistance: distance(0..<n),
                               xyDistance: distance(0..<min(2, n)), pos4Distance: pos4,
                               angleDistance: n > 4 ? angle : nil)
    }

    /// `["shape": code]` selects the block (`PushTBlockShape.layoutCode`; upstream's `update_env`
    /// sets `env_info['shape']`); like upstream it takes effect at the next reset.
    public func applyLayout(_ layout: [String: Double]) throws {
        for key in layout.keys where key != "shape" {
            throw PushTError("PushT layouts only have 'shape' (a block shape code), got '\(key)'")
        }
        if let code = layout["shape"] { options.shape = try PushTBlockShape(layoutCode: code) }
    }

    /// Upstream's `sample_random_init_goal_states(seed)`: two states from NumPy's legacy
    /// `RandomState(seed)` (agent in [50, 450)², block in [100, 400)², angle `randn·2π − π`,
    /// velocity zero). NumPy only takes 32-bit seeds; larger seeds use their low 32 bits.
    public func randomInitAndGoal(seed: UInt64) -> (initial: [Double], goal: [Double]) {
        var random = NumpyRandomState(seed32: UInt32(truncatingIfNeeded: seed))
        // `randint(low, high)` for these fixed, valid ranges.
        func randint(_ low: Int, _ high: Int) -> Double { Double(low + Int(random.interval(UInt32(high - low - 1)))) }
        func draw() -> [Double] {
            var state = [randint(50, 450), randint(50, 450), randint(100, 400), randint(100, 400),
                         random.randn() * 2 * Double.pi - Double.pi]
            if options.withVelocity { state += [0, 0] }
            return state
        }
        let initial = draw()
        return (initial, draw())
    }
}
