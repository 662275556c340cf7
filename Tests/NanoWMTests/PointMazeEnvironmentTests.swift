import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import PythonCompatible
import NanoWMCore

/// The point maze on MuJoCo's C library. Upstream runs mujoco-py on MuJoCo 2.1.0, which cannot be
/// installed here, so the checks are: our model against the reference's own XML (fixture made by
/// make_pointmaze_fixtures.py), the free motion against MuJoCo's Euler step with implicit joint
/// damping computed independently in Python, walls that stop the ball, the random start/goal
/// sampler against NumPy, and headless rendering.
final class PointMazeEnvironmentTests: XCTestCase {
    static let referenceXML = PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures/pointmaze/u_maze.xml")

    /// The same actions on the reference's XML and on ours give the same states and frames.
    func testModelMatchesTheReferenceXML() throws {
        let theirs = try PointMazeEnvironment(modelXML: try String(contentsOf: Self.referenceXML, encoding: .utf8))
        let ours = try PointMazeEnvironment()
        var random = NumpyRandomState(seed32: 5)
        let start = [0.8, 1.0, 0.5, -0.3]
        try theirs.reset(to: start, seed: 0)
        try ours.reset(to: start, seed: 0)
        for _ in 0..<60 {
            let action = [random.nextDouble() * 3 - 1.5, random.nextDouble() * 3 - 1.5]
            try theirs.step(action)
            try ours.step(action)
            XCTAssertEqual(ours.exactState, theirs.exactState)
        }
        XCTAssertEqual(try ours.render(), try theirs.render())
    }

    /// Away from walls the ball follows MuJoCo's Euler step, implicit in the joint damping b = 1:
    /// (m + h·b)·a = 100·u − b·v, v ← v + h·a, x ← x + h·v, five 10 ms steps per action, with
    /// the action clipped to ±1 and the velocity to ±5 first; m = 1000·(4/3)π·0.1³.
    func testFreeMotionIsEulerWithImplicitDamping() throws {
        let actions: [[Double]] = [[0.2, 0.3], [-0.4, 2.0], [0.1, -0.2], [0, 0]]
        let out = try PyTorchBaseline.shared.run("""
        m = 1000.0 * 4.0 / 3.0 * math.pi * 0.1 ** 3
        h, b = 0.01, 1.0
        x, v = [0.8, 1.0], [0.0, 6.0]
        rows = []
        for u in \(actions):
            u = [min(max(c, -1.0), 1.0) for c in u]
            v = [min(max(c, -5.0), 5.0) for c in v]
            for _ in range(5):
                for i in range(2):
                    a = (100.0 * u[i] - b * v[i]) / (m + h * b)
                    v[i] = v[i] + h * a
                    x[i] = x[i] + h * v[i]
            rows.append(x + v)
        O["states"] = torch.tensor(rows, dtype=torch.float64)
        """)
        let env = try PointMazeEnvironment()
        try env.reset(to: [0.8, 1.0, 0, 6], seed: 0)
        var ours: [Double] = []
        for action in actions {
            try env.step(action)
            ours += env.exactState
        }
        let expected = try out["states"]!.toArray(Double.self)
        let difference = zip(ours, expected).map { abs($0 - $1) }.max()!
        print("Point maze free motion: max |Δ| vs the Euler recurrence = \(difference)")
        XCTAssertLessThanOrEqual(difference, 1e-12)
    }

    /// The inner wall of the U (world x 2.5…3.5, i.e. joint x 1.3…2.3 for y below 2.3) stops a
    /// ball pushed into it.
    func testWallsStopTheBall() throws {
        let env = try PointMazeEnvironment()
        try env.reset(to: [0.8, 1.0, 0, 0], seed: 0)
        for _ in 0..<40 { try env.step([1, 0]) }
        XCTAssertGreaterThan(env.exactState[0], 1.1)
        XCTAssertLessThan(env.exactState[0], 1.25)
        XCTAssertEqual(env.state.count, 4)
    }

    /// Upstream's sampler re-stated with NumPy's RandomState gives the same states.
    func testRandomStartAndGoalEqualNumpy() throws {
        let out = try PyTorchBaseline.shared.run("""
        import numpy as np
        def sample(seed):
            rs = np.random.RandomState(seed)
            def one():
                while True:
                    x = rs.uniform(0.5, 3.1); y = rs.uniform(0.5, 3.1)
                    if ((0.5 <= x <= 1.1 or 2.5 <= x <= 3.1) and (0.5 <= y <= 3.1)) or ((1.1 < x < 2.5) and (2.5 <= y <= 3.1)):
                        break
                return [x, y, rs.uniform(-5.2262554, 5.2262554), rs.uniform(-5.2262554, 5.2262554)]
            return one() + one()
        O["states"] = torch.tensor([sample(s) for s in (0, 1, 42, 99)], dtype=torch.float64)
        """)
        let env = try PointMazeEnvironment()
        let ours = [0, 1, 42, 99].flatMap { seed -> [Double] in
            let pair = env.randomInitAndGoal(seed: UInt64(seed))
            return pair.initial + pair.goal
        }
        XCTAssertEqual(ours, try out["states"]!.toArray(Double.self))
    }

    func testSuccessIsWithinHalfAUnit() throws {
        let env = try PointMazeEnvironment()
        let edge = env.evaluate(goal: [1, 1, 0, 0], current: [1.5, 1, 3, 4])
        XCTAssertFalse(edge.success)  // exactly 0.5 apart
        XCTAssertEqual(edge.xyDistance!, 0.5)
        XCTAssertEqual(edge.stateDistance, (0.25 + 25).squareRoot(), accuracy: 1e-12)
        XCTAssertTrue(env.evaluate(goal: [1, 1, 0, 0], current: [1.25, 1.25, 0, 0]).success)
    }

    /// Frames come out headless (EGL), repeat exactly, and show the ball where it is.
    func testRendersHeadlessAndTheBallMoves() throws {
        let env = try PointMazeEnvironment()
        try env.reset(to: [0.8, 1.0, 0, 0], seed: 0)
        let first = try env.render()
        XCTAssertEqual(first.width, 224)
        XCTAssertEqual(try env.render(), first)
        try env.reset(to: [2.8, 1.0, 0, 0], seed: 0)
        XCTAssertNotEqual(try env.render(), first)
    }

    func testBadInputGivesOneLineErrors() throws {
        let env = try PointMazeEnvironment()
        assertOneLineError({ try env.reset(to: [1, 2], seed: 0) }, mentions: ["4 values", "got 2"])
        assertOneLineError({ try env.reset(to: [1, .nan, 0, 0], seed: 0) }, mentions: ["value 1", "finite"])
        try env.reset(to: [0.8, 1, 0, 0], seed: 0)
        assertOneLineError({ try env.step([0]) }, mentions: ["2 values"])
        assertOneLineError({ try PointMazeEnvironment(maze: "#X#") }, mentions: ["tile 'X'"])
        assertOneLineError({ try PointMazeEnvironment(modelXML: "<mujoco><worldbody><geom type='nonsense'/></worldbody></mujoco>") },
                           mentions: ["MuJoCo could not load"])
    }
}
