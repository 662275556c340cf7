import CMuJoCo
import Foundation
import SwiftTorch
import PythonCompatible
import NanoWMFormats

/// Upstream's point-maze planning environment (`PointMazeWrapper(U_MAZE, reward_type="sparse",
/// reset_target=False)`, D4RL's maze2d on mujoco-py) on MuJoCo's C library: each action is
/// clipped to ±1, the velocity clipped to ±5 (then `mj_forward`, as mujoco-py's `set_state`
/// does), and 5 physics steps of 10 ms run with the action as motor controls. State
/// `[x, y, vx, vy]` in float32 as upstream reports it. Frames: 224×224 from upstream's camera
/// (free camera at the median of the geoms' positions when mujoco-py first renders, distance =
/// the model's extent, azimuth 90°, elevation −90°), rows as mujoco-py returns them (bottom row
/// first), drawn offscreen through EGL with no display.
public final class PointMazeEnvironment: PlanningEnvironment {
    public static let frameSkip = 5
    public static let renderSize = 224
    /// Where upstream's target marker goes when targets are hidden (`OFF_TARGET + 1`).
    static let hiddenTarget = [11.0, 11.0, 0.0]
    /// The state upstream's `prepare_for_render` sets before mujoco-py's first render, which
    /// fixes the camera's look-at point.
    static let cameraSetupState = [1.0856, 1.9746, 0.0098, 0.0217]

    private let model: UnsafeMutablePointer<mjModel>
    private let data: UnsafeMutablePointer<mjData>
    private var renderer: cmujoco_renderer_t?
    private let lookAt: [Double]
    private let targetSite: Int
    public private(set) var seed: UInt64 = 0
    public private(set) var stepCount = 0

    public convenience init(maze: String = PointMazeModel.uMaze) throws {
        try self.init(modelXML: try PointMazeModel.xml(maze: maze))
    }

    /// The environment on a model given as MuJoCo XML (upstream's is `PointMazeModel.xml()`).
    public init(modelXML: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-pointmaze-\(UUID()).xml")
        try modelXML.write(to: file, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var error = [CChar](repeating: 0, count: 1000)
        guard let model = cmujoco_load_xml(file.path, &error, error.count) else {
            throw PointMazeError("MuJoCo could not load the point-maze model: \(Self.oneLine(error))")
        }
        guard let data = mj_makeData(model) else {
            mj_deleteModel(model)
            throw PointMazeError("MuJoCo could not allocate the point-maze data")
        }
        self.model = model
        self.data = data
        targetSite = Int(mj_name2id(model, Int32(mjOBJ_SITE.rawValue), "target_site"))
        lookAt = try Self.cameraLookAt(model, data)
    }

    deinit {
        cmujoco_renderer_free(renderer)
        mj_deleteData(data)
        mj_deleteModel(model)
    }

    private static func oneLine(_ buffer: [CChar]) -> String {
        String(cString: buffer).split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// mujoco-py's `_init_camera`: the median of every geom's position, per axis.
    private static func cameraLookAt(_ model: UnsafeMutablePointer<mjModel>, _ data: UnsafeMutablePointer<mjData>) throws -> [Double] {
        mj_resetData(model, data)
        try setState(model, data, cameraSetupState)
        let n = Int(model.pointee.ngeom)
        return (0..<3).map { axis in
            let values = (0..<n).map { data.pointee.geom_xpos[3 * $0 + axis] }.sorted()
            return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2
        }
    }

    /// mujoco-py's `set_state`: position and velocity, then `mj_forward`.
    private static func setState(_ model: UnsafeMutablePointer<mjModel>, _ data: UnsafeMutablePointer<mjData>,
                                 _ state: [Double]) throws {
        data.pointee.qpos[0] = state[0]
        data.pointee.qpos[1] = state[1]
        data.pointee.qvel[0] = state[2]
        data.pointee.qvel[1] = state[3]
        var error = [CChar](repeating: 0, count: 512)
        guard cmujoco_forward(model, data, &error, error.count) == 0 else {
            throw PointMazeError("MuJoCo failed to apply the point-maze state: \(oneLine(error))")
        }
    }

    public var actionDimension: Int { 2 }

    /// `[x, y, vx, vy]` in float64.
    public var exactState: [Double] {
        [data.pointee.qpos[0], data.pointee.qpos[1], data.pointee.qvel[0], data.pointee.qvel[1]]
    }

    /// Upstream's state: `exactState` cast to float32.
    public var state: [Double] { exactState.map { Double(Float($0)) } }

    /// Upstream's `set_marker` with hidden targets: the target site is moved off the maze.
    private func hideTarget() {
        guard targetSite >= 0 else { return }
        for i in 0..<3 { data.pointee.site_xpos[3 * targetSite + i] = Self.hiddenTarget[i] }
    }

    /// Upstream's `prepare`/`reset`: `mj_resetData`, then the state (`[x, y, vx, vy]`).
    public func reset(to state: [Double], seed: UInt64) throws {
        guard state.count == 4 else {
            throw PointMazeError("a point-maze state has 4 values [x, y, vx, vy]; got \(state.count)")
        }
        if let bad = state.firstIndex(where: { !$0.isFinite || abs($0) > 1e6 }) {
            throw PointMazeError("point-maze state value \(bad) is \(state[bad]); every value must be finite and within ±1e6")
        }
        self.seed = seed
        stepCount = 0
        mj_resetData(model, data)
        try Self.setState(model, data, state)
        hideTarget()
    }

    /// One control step (upstream's `MazeEnv.step`); never reports done.
    @discardableResult
    public func step(_ action: [Double]) throws -> Bool {
        guard action.count == 2 else { throw PointMazeError("a point-maze action has 2 values; got \(action.count)") }
        guard action.allSatisfy(\.isFinite) else { throw PointMazeError("point-maze action \(action) must be finite") }
        let clipped = action.map { min(max($0, -1), 1) }
        let velocity = (0..<2).map { min(max(data.pointee.qvel[$0], -5), 5) }
        try Self.setState(model, data, [data.pointee.qpos[0], data.pointee.qpos[1]] + velocity)
        data.pointee.ctrl[0] = clipped[0]
        data.pointee.ctrl[1] = clipped[1]
        var error = [CChar](repeating: 0, count: 512)
        guard cmujoco_step(model, data, Int32(Self.frameSkip), &error, error.count) == 0 else {
            throw PointMazeError("MuJoCo failed during a point-maze step: \(Self.oneLine(error))")
        }
        hideTarget()
        stepCount += 1
        return false
    }

    /// The 224×224 frame, drawn offscreen (an EGL context is made at the first render).
    public func render() throws -> RGBImage {
        var error = [CChar](repeating: 0, count: 512)
        if renderer == nil {
            renderer = cmujoco_renderer_new(model, Int32(Self.renderSize), Int32(Self.renderSize), &error, error.count)
            guard renderer != nil else { throw PointMazeError("point-maze rendering is unavailable: \(Self.oneLine(error))") }
        }
        var pixels = [UInt8](repeating: 0, count: Self.renderSize * Self.renderSize * 3)
        let status = pixels.withUnsafeMutableBufferPointer {
            cmujoco_render(renderer, model, data, lookAt, model.pointee.stat.extent, 90, -90, $0.baseAddress, &error, error.count)
        }
        guard status == 0 else { throw PointMazeError("point-maze rendering failed: \(Self.oneLine(error))") }
        return try RGBImage(width: Self.renderSize, height: Self.renderSize, pixels: pixels)
    }

    /// Upstream's `eval_state`: success when the positions are less than 0.5 apart.
    public func evaluate(goal: [Double], current: [Double]) -> PlanningOutcome {
        let n = min(goal.count, current.count)
        func distance(_ range: Range<Int>) -> Double {
            range.reduce(0.0) { $0 + (goal[$1] - current[$1]) * (goal[$1] - current[$1]) }.squareRoot()
        }
        let xy = distance(0..<min(2, n))
        return PlanningOutcome(success: n >= 2 && xy < 0.5, stateDistance: distance(0..<n), xyDistance: xy)
    }

    /// Upstream's `update_env` does nothing for the maze.
    public func applyLayout(_ layout: [String: Double]) throws {}

    /// Upstream's `sample_random_init_goal_states(seed)`: with NumPy's legacy RandomState,
    /// x and y drawn uniformly in [0.5, 3.1) until they fall in the U's free space, then the
    /// two velocities uniformly in ±5.2262554.
    public func randomInitAndGoal(seed: UInt64) -> (initial: [Double], goal: [Double]) {
        var random = NumpyRandomState(seed32: UInt32(truncatingIfNeeded: seed))
        func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * random.nextDouble() }
        func draw() -> [Double] {
            var x = 0.0, y = 0.0
            repeat {
                x = uniform(0.5, 3.1)
                y = uniform(0.5, 3.1)
            } while !(((0.5 <= x && x <= 1.1) || (2.5 <= x && x <= 3.1)) && (0.5 <= y && y <= 3.1)
                      || ((1.1 < x && x < 2.5) && (2.5 <= y && y <= 3.1)))
            return [x, y, uniform(-5.2262554, 5.2262554), uniform(-5.2262554, 5.2262554)]
        }
        let initial = draw()
        return (initial, draw())
    }
}
