import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import PythonCompatible
import NanoWMFormats
import NanoWMCore

/// PushT against the reference's own environment (committed fixture made by
/// Tests/Fixtures/make_pusht_fixtures.py with the reference's PushTWrapper: pymunk physics,
/// pygame frames) and against pymunk/pygame running live (PushTLiveTests).
final class PushTEnvironmentTests: XCTestCase {
    static let fixture = Result { try FixtureFile("pusht/reference") }

    struct Case {
        let name: String
        let float32Actions: Bool
        let legacy: Bool
        let withVelocity: Bool
        let relative: Bool
        let initial: [Double]
        let actions: [[Double]]
        let bodies: [[Double]]
        let states: [[Double]]
    }

    static func cases() throws -> [Case] {
        let fixture = try fixture.get()
        return try (0..<5).map { i in
            let info = try fixture.json("case.\(i)") as! [String: Any]
            func rows(_ key: String, _ width: Int) throws -> [[Double]] {
                let flat = try fixture.tensor(key).to(.float64).toArray(Double.self)
                return stride(from: 0, to: flat.count, by: width).map { Array(flat[$0..<($0 + width)]) }
            }
            let withVelocity = info["with_velocity"] as! Bool
            return Case(name: info["name"] as! String, float32Actions: info["float32_actions"] as! Bool,
                        legacy: info["legacy"] as! Bool, withVelocity: withVelocity, relative: info["relative"] as! Bool,
                        initial: try fixture.tensor("init.\(i)").toArray(Double.self),
                        actions: try rows("actions.\(i)", 2), bodies: try rows("bodies.\(i)", 7),
                        states: try rows("states.\(i)", withVelocity ? 7 : 5))
        }
    }

    /// Replays a case; returns the Chipmunk body values after the reset and after every step.
    static func replay(_ c: Case, render frames: Set<Int> = []) throws -> (bodies: [[Double]], states: [[Double]], frames: [Int: RGBImage]) {
        var options = PushTEnvironment.Options()
        options.actionPrecision = c.float32Actions ? .float32 : .float64
        options.legacy = c.legacy
        options.withVelocity = c.withVelocity
        options.relative = c.relative
        let env = PushTEnvironment(options: options)
        try env.reset(to: c.initial, seed: 0)
        var bodies = [env.bodyValues], states = [env.state], images: [Int: RGBImage] = [:]
        if frames.contains(0) { images[0] = try env.render() }
        for (t, action) in c.actions.enumerated() {
            try env.step(action)
            bodies.append(env.bodyValues)
            states.append(env.state)
            if frames.contains(t + 1) { images[t + 1] = try env.render() }
        }
        return (bodies, states, images)
    }

    static func maxDifference(_ a: [[Double]], _ b: [[Double]], upTo steps: Int = .max) -> Double {
        zip(a, b).prefix(steps).map { zip($0, $1).map { abs($0 - $1) }.max()! }.max()!
    }

    /// The reference's states over 100 steps of five contact-rich trajectories (float64 random
    /// actions; float32 pushes aimed at the block; float32 random actions; pushes with upstream's
    /// `legacy` set-state order and no velocity in the state; absolute targets). Chipmunk is the
    /// engine pymunk wraps and we make its calls in pymunk's order with upstream's arithmetic,
    /// so on this machine the states are bit-identical. Another machine may build the two
    /// Chipmunk copies (pymunk's wheel, Debian's library) with other compilers and libm, and
    /// contact resolution amplifies such last-bit differences (PushTLiveTests measures the
    /// amplification); the allowance is 1e-6 px/rad, far below any modelling error (a wrong
    /// order of two calls, a wrong friction or moment moves states by pixels within a few steps).
    func testReplayMatchesTheReferenceEnvironmentOver100Steps() throws {
        for c in try Self.cases() {
            let ours = try Self.replay(c)
            let difference = Self.maxDifference(ours.bodies, c.bodies)
            print("PushT \(c.name): max |Δ state| over \(c.actions.count) steps vs the reference = \(difference)")
            XCTAssertLessThanOrEqual(difference, 1e-6, c.name)
            // Upstream reports float32 observations; ours round the same values.
            XCTAssertLessThanOrEqual(Self.maxDifference(ours.states, c.states), 1e-3, "\(c.name) float32 states")
        }
    }

    /// Frames against the reference's pygame drawing (one with contact points showing). The
    /// canvas is drawn with pygame's exact integer rules, so the only allowed difference is
    /// one level of rounding in the bilinear resize (OpenCV builds); a missing 3-pixel contact
    /// mark already differs by 58 levels.
    func testFramesMatchTheReferenceRenderer() throws {
        let fixture = try Self.fixture.get()
        let picks = try fixture.json("frames") as! [[String: Int]]
        let frames = try fixture.tensor("frames")
        let cases = try Self.cases()
        for (k, pick) in picks.enumerated() {
            let ours = try Self.replay(cases[pick["case"]!], render: [pick["step"]!]).frames[pick["step"]!]!
            let theirs = try frames.select(dim: 0, index: k).contiguous().toArray(UInt8.self)
            let stats = PixelDifference(ours.pixels, theirs)
            print("PushT frame \(pick): \(stats)")
            XCTAssertEqual(ours.width, 224)
            XCTAssertLessThanOrEqual(stats.maxAbsolute, PixelDifference.resizeRounding, "\(pick)")
        }
    }

    /// `randomInitAndGoal` equals the reference's `sample_random_init_goal_states` (NumPy's
    /// legacy RandomState): integers and `randn·2π − π` exactly.
    func testRandomStartAndGoalEqualTheReference() throws {
        let fixture = try Self.fixture.get()
        let seeds = try fixture.json("random_state_seeds") as! [Int]
        let expected = try fixture.tensor("random_states").toArray(Double.self)
        let env = PushTEnvironment()
        for (i, seed) in seeds.enumerated() {
            let (initial, goal) = env.randomInitAndGoal(seed: UInt64(seed))
            XCTAssertEqual(initial + goal, Array(expected[(i * 14)..<((i + 1) * 14)]), "seed \(seed)")
        }
    }

    /// NumPy's legacy generator, live: the 32-bit stream, `randint` and cached `randn`.
    func testNumpyRandomStateDrawsEqualNumpy() throws {
        let out = try PyTorchBaseline.shared.run("""
        import numpy as np
        rs = np.random.RandomState(4242)
        O["raw"] = torch.tensor(rs.randint(0, 2**32, size=5, dtype=np.uint64).astype(np.float64))
        O["ints"] = torch.tensor([float(rs.randint(50, 450)) for _ in range(40)] + [float(rs.randint(7, 8))])
        O["normals"] = torch.tensor([rs.randn() for _ in range(9)], dtype=torch.float64)
        O["uniform"] = torch.tensor([rs.random_sample() for _ in range(3)], dtype=torch.float64)
        """)
        var random = NumpyRandomState(seed32: 4242)
        XCTAssertEqual((0..<5).map { _ in Double(random.nextUInt32()) }, try out["raw"]!.toArray(Double.self))
        XCTAssertEqual(try (0..<40).map { _ in Double(try random.randint(50, 450)) } + [Double(try random.randint(7, 8))],
                       try out["ints"]!.toArray(Double.self))
        XCTAssertEqual((0..<9).map { _ in random.randn() }, try out["normals"]!.toArray(Double.self))
        XCTAssertEqual((0..<3).map { _ in random.nextDouble() }, try out["uniform"]!.toArray(Double.self))
    }

    /// Upstream's `eval_state`: ‖Δ[:4]‖ < 20 and the wrapped angle difference < π/9.
    func testSuccessTestIsUpstreams() {
        let env = PushTEnvironment()
        let goal = [100.0, 100, 200, 200, 0.1, 0, 0]
        let near = env.evaluate(goal: goal, current: [110, 110, 200, 200, 0.1, 3, 4])
        XCTAssertTrue(near.success)
        XCTAssertEqual(near.pos4Distance!, 200.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(near.xyDistance!, 200.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(near.stateDistance, 225.0.squareRoot(), accuracy: 1e-12)
        // 2π − 0.1 against 0.1 is 0.2 apart once wrapped.
        let wrapped = env.evaluate(goal: goal, current: [100, 100, 200, 200, 2 * .pi - 0.1, 0, 0])
        XCTAssertTrue(wrapped.success)
        XCTAssertEqual(wrapped.angleDistance!, 0.2, accuracy: 1e-12)
        XCTAssertFalse(env.evaluate(goal: goal, current: [100, 100, 212, 216, 0.1, 0, 0]).success)  // exactly 20 away
        XCTAssertFalse(env.evaluate(goal: goal, current: [100, 100, 200, 200, 0.1 + .pi / 9 + 1e-9, 0, 0]).success)
    }

    func testLayoutSelectsTheBlockShapeAtTheNextReset() throws {
        let env = PushTEnvironment()
        let start = [256.0, 400, 256, 300, 0, 0, 0]
        try env.reset(to: start, seed: 0)
        let tee = try env.render()
        try env.applyLayout(["shape": PushTBlockShape.square.layoutCode])
        XCTAssertEqual(env.options.shape, .square)
        try env.reset(to: start, seed: 0)
        XCTAssertNotEqual(try env.render(), tee)
        XCTAssertEqual(try PushTBlockShape(name: "small_tee"), .smallTee)
    }

    func testBadInputGivesOneLineErrors() throws {
        let env = PushTEnvironment()
        assertOneLineError({ try env.reset(to: [1, 2, 3], seed: 0) }, mentions: ["PushT state", "got 3"])
        assertOneLineError({ try env.reset(to: [1, 2, 3, 4, .nan, 0, 0], seed: 0) }, mentions: ["value 4", "finite"])
        try env.reset(to: [256, 400, 256, 300, 0, 0, 0], seed: 0)
        assertOneLineError({ try env.step([1, 2, 3]) }, mentions: ["2 values", "got 3"])
        assertOneLineError({ try env.step([.infinity, 0]) }, mentions: ["finite"])
        assertOneLineError({ try env.applyLayout(["door_y": 1]) }, mentions: ["'door_y'", "shape"])
        assertOneLineError({ try env.applyLayout(["shape": 9]) }, mentions: ["shape code", "got 9.0"])
        assertOneLineError({ try PushTBlockShape(name: "hexagon") }, mentions: ["'hexagon'", "'T'"])
    }
}

/// How two 8-bit RGB frames differ: mean absolute difference over all channels, the fraction
/// of pixels with any channel different, and the largest channel difference.
struct PixelDifference: CustomStringConvertible {
    /// One 8-bit level: what two OpenCV builds' fixed-point bilinear resizes may differ by.
    static let resizeRounding = 1

    let meanAbsolute: Double
    let fractionDiffering: Double
    let maxAbsolute: Int

    init(_ a: [UInt8], _ b: [UInt8]) {
        precondition(a.count == b.count && a.count % 3 == 0)
        var sum = 0, differing = 0, largest = 0
        for p in stride(from: 0, to: a.count, by: 3) {
            var any = false
            for c in 0..<3 {
                let d = abs(Int(a[p + c]) - Int(b[p + c]))
                sum += d
                largest = max(largest, d)
                any = any || d > 0
            }
            if any { differing += 1 }
        }
        meanAbsolute = Double(sum) / Double(a.count)
        fractionDiffering = Double(differing) / Double(a.count / 3)
        maxAbsolute = largest
    }

    var description: String {
        String(format: "mean |Δ| %.4f, %.4f%% of pixels differ, max |Δ| %d", meanAbsolute, fractionDiffering * 100, maxAbsolute)
    }
}
