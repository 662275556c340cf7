import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
import PythonCompatible
@testable import NanoWMConfiguration
@testable import NanoWMFormats
@testable import NanoWMCore

/// The planner's pieces around the world model: CPython's random for dataset goals, the action
/// statistics file, the wall as a planning environment, seeded determinism, and `nanowm plan`
/// end to end on a tiny trained model.
final class PlanningTests: XCTestCase {
    /// `random.Random(seed)`: MT19937 seeding from the seed's 32-bit words, `random()`,
    /// `getrandbits`, `choice` and `randint`, bit for bit against Python running live.
    func testPythonRandomEqualsCPython() throws {
        let seeds: [UInt64] = [0, 1, 42, 99, 4_294_967_301, 123_456_789_012_345]
        let items = Array(0..<37)
        var ours: [Int64] = [], oursDouble: [Double] = []
        for seed in seeds {
            var random = PythonRandom(seed: seed)
            oursDouble += (0..<3).map { _ in random.random() }
            ours += [Int64(random.bits(32)), Int64(random.bits(7)), Int64(bitPattern: random.bits(64))]
            ours += (0..<10).map { _ in Int64(random.choice(items)) }
            ours += (0..<10).map { _ in Int64(random.randint(0, 14)) }
            ours += (0..<5).map { _ in Int64(random.randint(3, 3)) }  // one value: still one draw each
            ours.append(Int64(random.randint(0, 1_000_000_007)))
        }
        let live = try PyTorchBaseline.shared.run("""
        import random
        ints, floats = [], []
        for seed in \(seeds):
            r = random.Random(seed)
            floats += [r.random() for _ in range(3)]
            b32, b7, b64 = r.getrandbits(32), r.getrandbits(7), r.getrandbits(64)
            ints += [b32, b7, b64 - (1 << 64) if b64 >= (1 << 63) else b64]
            ints += [r.choice(list(range(37))) for _ in range(10)]
            ints += [r.randint(0, 14) for _ in range(10)]
            ints += [r.randint(3, 3) for _ in range(5)]
            ints.append(r.randint(0, 1000000007))
        O['ints'] = torch.tensor(ints, dtype=torch.int64)
        O['floats'] = torch.tensor(floats, dtype=torch.float64)
        """)
        XCTAssertEqual(try live["ints"]!.toArray(Int64.self), ours)
        XCTAssertEqual(try live["floats"]!.toArray(Double.self), oursDouble)
    }

    /// The alphabetically first `action_train_*.pt` is read with our torch.save reader, tiled
    /// `frame_interval` times, and de-normalises as `x · std + mean` (checked against torch).
    func testActionStatisticsAreReadTiledAndApplied() throws {
        let folder = try TemporaryDirectory("stats")
        defer { folder.remove() }
        let cache = folder.url.appendingPathComponent("wm_stats_cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let action: [Double] = [0.5, -1.25, 2.0, 0.0]
        let live = try PyTorchBaseline.shared.run("""
        mean, std = torch.tensor([0.1, -0.2]), torch.tensor([2.0, 0.5])
        torch.save({'mean': mean, 'std': std}, \(pythonString(cache.appendingPathComponent("action_train_a.pt").path)))
        torch.save({'mean': mean * 9, 'std': std * 9}, \(pythonString(cache.appendingPathComponent("action_train_b.pt").path)))
        torch.save({'mean': mean}, \(pythonString(folder.path("no_std.pt"))))
        O['out'] = torch.tensor(\(action), dtype=torch.float32) * std.repeat(2) + mean.repeat(2)
        """)
        let file = try XCTUnwrap(ActionStatistics.file(in: folder.url))
        XCTAssertEqual(file.lastPathComponent, "action_train_a.pt")
        let statistics = try ActionStatistics(reading: file.path, frameInterval: 2)
        XCTAssertEqual(statistics.mean.shape, [4])
        let ours = try statistics.denormalize(action)
        let theirs = try live["out"]!.toArray(Float.self).map(Double.init)
        for (a, b) in zip(ours, theirs) { XCTAssertEqual(a, b, accuracy: 1e-6) } // torch computes in float32
        XCTAssertNil(ActionStatistics.file(in: cache))
        assertOneLineError({ try ActionStatistics(reading: folder.path("no_std.pt"), frameInterval: 1) }, mentions: ["no_std.pt", "'std'"])
        assertOneLineError({ try statistics.denormalize([1, 2]) }, mentions: ["2 values", "4"])
    }

    /// The wall as a planning environment: reset, step, render, success radius, layout, random
    /// goals from a seed, and dataset goals replayed exactly as the data was recorded.
    func testWallIsAPlanningEnvironment() throws {
        var wall: any PlanningEnvironment = WallEnvironment(resolution: 16, start: (x: 0.2, y: 0.5))
        try wall.reset(to: [0.2, 0.5], seed: 0)
        try wall.step([1, 0])
        XCTAssertEqual(wall.state[0], 0.3, accuracy: 1e-12)
        let frame = try wall.render()
        XCTAssertEqual([frame.width, frame.height], [16, 16])
        XCTAssertTrue(wall.evaluate(goal: [0.3, 0.56], current: wall.state).success)
        XCTAssertFalse(wall.evaluate(goal: [0.3, 0.58], current: wall.state).success)
        try wall.applyLayout(["door_y": 0.2])
        XCTAssertEqual((wall as! WallEnvironment).layout.doorY, 0.2)
        assertOneLineError({ try wall.applyLayout(["door": 1]) }, mentions: ["door"])
        assertOneLineError({ try wall.step([1]) }, mentions: ["2-D"])
        let a = wall.randomInitAndGoal(seed: 7), b = wall.randomInitAndGoal(seed: 7), c = wall.randomInitAndGoal(seed: 8)
        XCTAssertEqual(a.goal, b.goal)
        XCTAssertNotEqual(a.goal, c.goal)

        // Replaying an episode's recorded actions from its recorded start reaches its recorded
        // positions (actions stored as float32 move them by rounding only).
        let directory = try TemporaryDirectory("wall-goals")
        defer { directory.remove() }
        let store = try WallDataGenerator.generate(into: directory.url, episodes: 3, length: 12, resolution: 16, seed: 5)
        let data = BuiltinWallTrajectories(store: store, episodes: [1, 2])
        let goals = try PlanningGoals.replayed(WallEnvironment(resolution: 16, start: (0.5, 0.5)), from: data, episodes: 4,
                                               seed: 42, goalH: 3, frameInterval: 1)
        var python = PythonRandom(seed: 42)
        for goal in goals {
            let trajectory = python.choice([0, 1]), offset = python.randint(0, 12 - 4)
            XCTAssertEqual(goal.meta["traj_id"] as? Int, trajectory)
            XCTAssertEqual(goal.meta["offset"] as? Int, offset)
            let recorded = try data.state(trajectory, at: offset + 3)
            XCTAssertEqual(goal.goalState[0], recorded[0], accuracy: 1e-6)
            XCTAssertEqual(goal.goalState[1], recorded[1], accuracy: 1e-6)
            XCTAssertNotNil(goal.goalFrame)
        }
        assertOneLineError({ try PlanningGoals.replayed(WallEnvironment(resolution: 16, start: (0.5, 0.5)), from: data, episodes: 1,
                                                        seed: 0, goalH: 20, frameInterval: 1) }, mentions: ["goal_H"])
    }

    /// Upstream never seeds planning (§8); here every episode seeds itself, so a rerun gives the
    /// same plans, distances and frames, and another seed gives other plans.
    func testPlanningIsSeeded() throws {
        func episode(seed: Int) throws -> (EpisodeMetrics, [RGBImage]) {
            try manualSeed(3)
            let model = try NanoWMModel(NanoWMConfig(inputSize: 8, patchSize: 4, inChannels: 3, hiddenSize: 16, depth: 2, numHeads: 2,
                                                     numFrames: 3, useAction: true, actionDim: 2))
            model.eval()
            var setup = SamplingSetup()
            setup.respaced = false
            setup.options.steps = 2
            let (process, options) = try setup.make(device: .cpu)
            var settings = PlanningSettings()
            (settings.seed, settings.horizon, settings.replanEvery, settings.maxEpisodeSteps) = (seed, 2, 2, 4)
            (settings.cem.numSamples, settings.cem.topK, settings.cem.iterations) = (6, 3, 2)
            let control = ModelPredictiveControl(world: try PlanningWorldModel(model: model, codec: PixelCodec(), process: process, options: options),
                                                 settings: settings, frameInterval: 1, statistics: nil, imageSize: 8, device: .cpu)
            var wall: any PlanningEnvironment = WallEnvironment(resolution: 8, start: (0.5, 0.5))
            let goal = PlanningGoals.random(wall, episodes: 1, seed: 1)[0]
            let result = try control.episode(0, goal: goal, environment: &wall, label: "test")
            return (result.metrics, result.frames)
        }
        let (first, firstFrames) = try episode(seed: 11)
        let (again, againFrames) = try episode(seed: 11)
        let (other, otherFrames) = try episode(seed: 12)
        XCTAssertEqual(first.stateDistance, again.stateDistance)
        XCTAssertEqual(firstFrames, againFrames)
        XCTAssertTrue(first.stateDistance != other.stateDistance || firstFrames != otherFrames, "another seed plans the same")
    }

    /// `nanowm plan` on a tiny trained model writes both JSON files in upstream's schema and a
    /// video; bad settings stop with one line before anything is written.
    /// `goal_source: dset` on recorded datasets against the reference's `_sample_dset_goals`
    /// (Tests/Fixtures/make_goal_fixtures.py) on the test datasets: the same trajectories and
    /// offsets from Python's `random.Random(seed)`, the same start states and replayed actions
    /// (PushT: relative actions / 100 with velocities appended; point maze: `actions.pth`), and
    /// for PushT, whose reference environment runs here, the same goal states after the replay.
    func testDatasetGoalsEqualTheReferences() throws {
        let fixture = try jsonObject(atPath: FixtureFile.directory.appendingPathComponent("planning/dset_goals.json").path)
        let root = PyTorchBaseline.repositoryRoot
        for name in ["pusht", "point_maze"] {
            let recorded = try XCTUnwrap(fixture[name] as? [String: Any], name)
            var loader = ConfigMapping()
            for (key, value) in try XCTUnwrap(recorded["loader"] as? [String: Any]) {
                switch value {
                case let text as String: loader[key] = .string(root.appendingPathComponent(text).path)
                case let number as Double where key == "action_scale": loader[key] = .double(number)
                case let flag as Bool: loader[key] = .bool(flag)
                default: XCTFail("\(key): \(value)")
                }
            }
            let data = try RecordedGoalTrajectories(training: try LoaderSettings(subtree: .mapping(loader)))
            let environment = try PlanningEnvironments.make(name, imageSize: 32)
            let expected = try XCTUnwrap(recorded["goals"] as? [[String: Any]])
            let (goalH, interval) = (recorded["goal_H"] as! Int, recorded["frame_interval"] as! Int)
            let goals = try PlanningGoals.replayed(environment, from: data, episodes: expected.count, seed: recorded["seed"] as! Int,
                                                   goalH: goalH, frameInterval: interval)
            for (episode, (ours, theirs)) in zip(goals, expected).enumerated() {
                let (trajectory, offset) = (ours.meta["traj_id"] as! Int, ours.meta["offset"] as! Int)
                XCTAssertEqual([trajectory, offset], [theirs["traj_id"] as! Int, theirs["offset"] as! Int], "\(name) episode \(episode)")
                // The recorded values are float32 (Foundation's JSON reader can miss a double's last bit).
                func single(_ values: [Double]) -> [Float] { values.map(Float.init) }
                XCTAssertEqual(single(ours.initialState), single(theirs["init_state"] as! [Double]), "\(name) episode \(episode)")
                if let actions = theirs["actions"] as? [[Double]] {
                    XCTAssertEqual(try data.actions(trajectory, from: offset, count: goalH * interval).map(single), actions.map(single),
                                   "\(name) episode \(episode)")
                }
                if let goal = theirs["goal_state"] as? [Double] {
                    XCTAssertEqual(ours.goalState.count, goal.count)
                    for (a, b) in zip(ours.goalState, goal) {
                        XCTAssertEqual(a, b, accuracy: 1e-4 * Swift.max(1, abs(b)), "\(name) episode \(episode) goal state")
                    }
                }
            }
        }
    }

    func testPlanCommandWritesUpstreamSchemaAndRefusesBadInput() throws {
        let scratch = try TemporaryDirectory("plan-cli")
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data"), training = scratch.url.appendingPathComponent("train")
        let trained = try NanoWMExecutable.run(["train"] + TinyTraining.overrides(dataDirectory: data) + ["--run-dir", training.path])
        XCTAssertEqual(trained.status, 0, trained.error)
        let checkpoint = try XCTUnwrap(try RunDirectory(training).latestCheckpoint).path
        let budget = ["planning=builtin_wall", "ckpt_path=\(checkpoint)", "planning.n_evals=2", "planning.n_plot_samples=1",
                      "planning.horizon=2", "planning.replan_every=1", "planning.max_episode_steps=2", "planning.cem.num_samples=4",
                      "planning.cem.topk=2", "planning.cem.opt_steps=1", "planning.num_sampling_steps=1",
                      "planning.goal_source=dset", "planning.goal_H=2"]
        let run = scratch.url.appendingPathComponent("plan")
        let planned = try NanoWMExecutable.run(["plan"] + budget + ["--run-dir", run.path])
        XCTAssertEqual(planned.status, 0, planned.error)
        XCTAssertTrue(planned.output.contains("episodes reached the goal"), planned.output)
        let results = run.appendingPathComponent("planning_results")
        XCTAssertEqual(try MP4Writer.probe(results.appendingPathComponent("episode_000.mp4")).frames, 3, "start + 2 steps")
        _ = try PyTorchBaseline.shared.run("""
        import json, math
        r = json.load(open(\(pythonString(results.appendingPathComponent("planning_results.json").path))))
        t = json.load(open(\(pythonString(results.appendingPathComponent("planning_targets.json").path))))
        stats = [f'{k}_{s}' for k in ('state_dist', 'xy_dist', 'pos4_dist', 'angle_dist', 'n_steps')
                 for s in ('mean', 'median', 'std', 'stderr', 'min', 'max')]
        assert set(r) == {'success_rate', 'success_count', 'n_episodes', 'planning_config', 'per_episode', *stats}, sorted(r)
        assert r['n_episodes'] == 2 and len(r['per_episode']) == 2 and r['planning_config']['cem']['num_samples'] == 4
        assert r['success_rate'] == r['success_count'] / 2
        for e, m in enumerate(r['per_episode']):
            assert set(m) == {'episode', 'seed', 'success', 'state_dist', 'xy_dist', 'pos4_dist', 'angle_dist', 'n_steps',
                              'success_step', 'goal_meta'}, sorted(m)
            assert m['episode'] == e and m['seed'] == 42 + e and m['pos4_dist'] is None and m['angle_dist'] is None
            assert m['n_steps'] <= 2 and m['state_dist'] == m['xy_dist']
        d = [m['state_dist'] for m in r['per_episode']]
        assert math.isclose(r['state_dist_mean'], sum(d) / 2) and r['pos4_dist_mean'] is None
        assert math.isclose(r['state_dist_std'], abs(d[0] - d[1]) / 2)
        assert [g['episode'] for g in t] == [0, 1] and all(len(g['goal_state']) == 2 and len(g['init_state']) == 2 for g in t)
        assert set(t[0]['goal_meta']) == {'source', 'episode', 'seed', 'val_path', 'traj_id', 'offset', 'traj_len',
                                          'frame_interval', 'goal_H'} and t[0]['goal_meta']['traj_len'] == 3
        """)

        // PushT (Chipmunk) from random start/goal states through the same loop: 7-D states, the
        // PushT success test's distances, frames rendered at 224² and resized for the model.
        let pushRun = scratch.url.appendingPathComponent("plan-pusht")
        let pushed = try NanoWMExecutable.run(["plan"] + budget.filter { !$0.hasPrefix("planning.goal") }
            + ["planning.env_name=pusht", "planning.goal_source=random_state", "--run-dir", pushRun.path])
        XCTAssertEqual(pushed.status, 0, pushed.error)
        _ = try PyTorchBaseline.shared.run("""
        import json
        r = json.load(open(\(pythonString(pushRun.appendingPathComponent("planning_results/planning_results.json").path))))
        t = json.load(open(\(pythonString(pushRun.appendingPathComponent("planning_results/planning_targets.json").path))))
        assert r['n_episodes'] == 2 and all(m['pos4_dist'] is not None and m['angle_dist'] is not None for m in r['per_episode'])
        assert all(len(g['goal_state']) == 7 and len(g['init_state']) == 7 for g in t), t
        """)

        // A checkpoint file with no training config.yaml in any folder above it.
        let stray = FileManager.default.temporaryDirectory.appendingPathComponent("stray-\(UUID())")
        try FileManager.default.createDirectory(at: stray, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: stray) }
        try Data("x".utf8).write(to: stray.appendingPathComponent("stray.ckpt"))
        let refused: [([String], String)] = [
            (["planning.eta=0.5"], "planning.eta=0.5 is not supported"),
            (["+planning.foo=1"], "planning.foo is not a planning setting"),
            (["planning.env_name=nowhere"], "planning.env_name 'nowhere'"),
            (["planning.replan_every=3"], "planning.replan_every must lie in [1, horizon = 2]"),
            (["planning.cem.topk=9"], "planning.cem.topk"),
            (["ckpt_path=\(scratch.path("missing.ckpt"))"], "ckpt_path: no file at"),
            (["ckpt_path=\(stray.appendingPathComponent("stray.ckpt").path)"], "no training config.yaml"),
            (["--nproc-per-node", "2"], "planning runs in one process"),
            (["--dist-timeout", "60"], "planning runs in one process"),
        ]
        for (extra, message) in refused {
            let folder = scratch.url.appendingPathComponent("refused")
            let result = try NanoWMExecutable.run(["plan"] + budget + extra + ["--run-dir", folder.path])
            XCTAssertNotEqual(result.status, 0, "\(extra)")
            XCTAssertEqual(result.error.split(separator: "\n").count, 1, result.error)
            XCTAssertTrue(result.error.contains(message), "'\(message)' not in: \(result.error)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path), "\(extra) left a run folder")
        }
    }
}
