import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore

/// The DINO-WM readers and the clip dataset above them against what upstream's own dataset
/// classes returned for the same files (Tests/Fixtures/datasets, made by
/// make_dataset_fixtures.py): split orders, slice lists, items (video, action, state),
/// statistics and their cache name, the fixed-subset JSON and the random-mode draws.
/// Each test works on a copy of the datasets, so statistics caches never land in the repository.
final class RecordedDatasetTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var dataRoot: URL { scratch.url.appendingPathComponent("data") }
    static let fixtures = DatasetFixtures.directory

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory("recorded-datasets")
        try DatasetFixtures.copy(to: dataRoot)
    }

    override func tearDown() { scratch.remove() }

    func config(_ name: String, _ extra: [String] = []) throws -> DatasetSettings {
        try DatasetSettings(try ConfigComposer.locate().composition(overrides: DatasetFixtures.overrides(name, dataRoot: dataRoot) + extra).resolved())
    }

    func reference(_ name: String) throws -> (tensors: [String: Tensor], info: [String: Any]) { try DatasetFixtures.reference(name) }

    static func triples(_ slices: [ClipSlice]) -> [[Int]] { slices.map { [$0.trajectory, $0.start, $0.end] } }

    /// Video, actions and states of the recorded items; returns the largest video difference.
    @discardableResult
    func assertItems(_ dataset: WorldModelDataset, _ split: String, _ ref: (tensors: [String: Tensor], info: [String: Any]),
                     videoTolerance: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let picks = (ref.info["items"] as! [String: [Int]])[split]!
        let items = try picks.map { try dataset.load(try dataset.slice(at: $0)) }
        let video = try Tensor.stack(try items.map { try $0.frames * 2.0 - 1.0 })
        let videoDifference = try maxAbsDifference(video, ref.tensors["\(split).video"]!)
        XCTAssertLessThanOrEqual(videoDifference, videoTolerance, "\(split) video", file: file, line: line)
        try assertClose(try Tensor.stack(items.map(\.actions)), ref.tensors["\(split).action"], atol: 1e-6, file: file, line: line)
        try assertClose(try Tensor.stack(items.map(\.states)), ref.tensors["\(split).state"], atol: 1e-6, file: file, line: line)
        return videoDifference
    }

    func assertMatchesReference(_ name: String, videoTolerance: Double = 1e-6) throws -> (RecordedDatasets, Double) {
        let config = try config(name)
        let ref = try reference(name)
        let splits = try RecordedDatasets.splits(config, progress: nil)
        XCTAssertEqual(splits.train.trajectories, ref.info["train_order"] as! [Int], "\(name) train order")
        XCTAssertEqual(splits.validation.trajectories, ref.info["val_order"] as! [Int], "\(name) val order")
        XCTAssertEqual(Self.triples(splits.train.slices!), ref.info["train_slices"] as! [[Int]], "\(name) train slices")
        XCTAssertEqual(Self.triples(splits.validation.slices!), ref.info["val_slices"] as! [[Int]], "\(name) val slices")
        let worst = max(try assertItems(splits.train, "train", ref, videoTolerance: videoTolerance),
                        try assertItems(splits.validation, "val", ref, videoTolerance: videoTolerance))
        if let statistics = splits.train.statistics {
            try assertClose(statistics.mean, ref.tensors["train.raw_mean"], atol: 1e-6)
            try assertClose(statistics.std, ref.tensors["train.raw_std"], atol: 1e-6)
            try assertClose(try splits.train.chunkedStatistics()!.mean, ref.tensors["train.action_mean"], atol: 1e-6)
            try assertClose(try splits.train.chunkedStatistics()!.std, ref.tensors["train.action_std"], atol: 1e-6)
            try assertClose(splits.validation.statistics!.mean, ref.tensors["val.raw_mean"], atol: 1e-6)
            try assertClose(splits.validation.statistics!.std, ref.tensors["val.raw_std"], atol: 1e-6)
            // Upstream's cache name for upstream's path, and upstream's cache file read here.
            let source = splits.train.source
            XCTAssertEqual(ActionStatistics.cacheName(identity: ref.info["cache_identity"] as! String, kind: "action", split: "train",
                                                      trajectories: splits.train.trajectories, total: source.trajectoryCount,
                                                      dimension: source.actionDimension), ref.info["cache_name"] as? String)
            let upstream = try XCTUnwrap(ActionStatistics.load(Self.fixtures.appendingPathComponent("reference/\(name)_stats_cache.pt")))
            try assertExactlyEqual(upstream.mean, ref.tensors["train.raw_mean"], "upstream's cached mean")
        } else {
            XCTAssertNil(ref.tensors["train.raw_mean"], "\(name): upstream normalised, we did not")
        }
        // The fixed validation subset: the same draw, written as upstream writes it.
        let wanted = min(4, splits.validation.count)
        let subset = ValidationSubset(dataset: config.subsetHeader,
                                      slices: try ValidationSubset.draw(from: splits.validation.slices!, size: wanted, seed: 42))
        XCTAssertEqual(subset.json, ref.info["subset_json"] as? String, "\(name) subset JSON")
        // Random slice mode: the dataset's own RandomState draws, item after item.
        let sampler = try RandomClipSampler(splits.train.trajectories, length: { try splits.train.source.trajectory($0).length },
                                            required: splits.train.requiredSteps, seed: 42)
        let n = splits.train.trajectories.count
        let draws = try (0..<(2 * n)).map { try sampler.slice(forItem: $0 % n) }
        XCTAssertEqual(draws.map { [$0.trajectory, $0.start] }, ref.info["random_draws"] as! [[Int]], "\(name) random draws")
        print("\(name): max |Δ| of items' video vs upstream = \(worst)")
        return (try RecordedDatasets(config), worst)
    }

    func testPointMazeMatchesUpstream() throws { _ = try assertMatchesReference("point_maze") }
    func testWallMatchesUpstreamWithPaddedResize() throws { _ = try assertMatchesReference("wall") }
    func testRopeMatchesUpstream() throws { _ = try assertMatchesReference("rope") }
    func testGranularMatchesUpstream() throws { _ = try assertMatchesReference("granular") }

    /// PushT frames come from lossy MP4s: OpenCV here, decord upstream, on the same files.
    func testPushTMatchesUpstream() throws {
        _ = try assertMatchesReference("pusht", videoTolerance: 1e-6)
    }

    /// A subset file from upstream selects the same clips, and validation is already the subset.
    func testFixedSubsetReadAndWritten() throws {
        let ref = try reference("point_maze")
        let upstreamFile = scratch.url.appendingPathComponent("upstream_subset.json")
        try (ref.info["subset_json"] as! String).write(to: upstreamFile, atomically: false, encoding: .utf8)
        let read = try RecordedDatasets(try config("point_maze", ["dataset.loader.validation_fixed_subset_path=\(upstreamFile.path)"]))
        let specs = try ValidationSubset.read(upstreamFile).slices
        XCTAssertEqual(read.validation.slices, specs)
        XCTAssertEqual(read.validation.count, specs.count)
        // Drawn and written into the run folder when no path is given.
        let run = scratch.url.appendingPathComponent("run")
        let drawn = try RecordedDatasets(try config("point_maze", ["dataset.loader.validation_fixed_subset_size=4"]), runDirectory: run)
        XCTAssertEqual(try String(contentsOf: run.appendingPathComponent("validation_subset.json")), ref.info["subset_json"] as? String)
        XCTAssertEqual(drawn.validation.slices, specs)
        // Without a subset, validation is the first validation_size clips.
        let truncated = try RecordedDatasets(try config("point_maze", ["dataset.loader.validation_size=3"]))
        XCTAssertEqual(truncated.validation.slices, Array(try RecordedDatasets.splits(try config("point_maze"), progress: nil).validation.slices!.prefix(3)))
        assertOneLineError({ try RecordedDatasets(try self.config("point_maze", ["dataset.loader.validation_fixed_subset_path=\(upstreamFile.path)",
                                                                                "dataset.loader.validation_fixed_subset_size=5"])) },
                           mentions: [upstreamFile.path, "holds 4 slices"])
    }

    /// Our statistics cache is where upstream looks for it, and torch.load reads it.
    func testStatisticsCacheIsUpstreamsFile() throws {
        let datasets = try RecordedDatasets(try config("point_maze"))
        let source = datasets.train.source
        let url = ActionStatistics.cachePath(source, kind: "action", split: .train, trajectories: datasets.train.trajectories,
                                             dimension: source.actionDimension)
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.path)
        XCTAssertEqual(url.deletingLastPathComponent().deletingLastPathComponent().path, dataRoot.appendingPathComponent("point_maze").path)
        let loaded = try PyTorchBaseline.shared.run("""
        d = torch.load(\(pythonString(url.path)), weights_only=True)
        O['mean'], O['std'] = d['mean'], d['std']
        """)
        try assertExactlyEqual(datasets.train.statistics!.mean, loaded["mean"], "cached mean")
        try assertExactlyEqual(datasets.train.statistics!.std, loaded["std"], "cached std")
        // A second build reads the cache (a corrupt cache is recomputed, as upstream).
        try Data("garbage".utf8).write(to: url)
        let again = try RecordedDatasets(try config("point_maze"))
        try assertExactlyEqual(again.train.statistics!.mean, datasets.train.statistics!.mean, "recomputed mean")
    }

    /// A run checks the dataset before writing anything and then completes the splits it
    /// opened (statistics, a fresh random sampler): the same datasets as building them at once.
    func testCompletingCheckedSplitsGivesTheSameDatasets() throws {
        for (name, extra) in [("point_maze", ["dataset.loader.train_slice_mode=random"]), ("pusht", [])] {
            let settings = try config(name, extra)
            let direct = try RecordedDatasets(settings)
            let completed = try RecordedDatasets(settings, checked: try RecordedDatasets.preflight(settings))
            for (a, b, split) in [(direct.train, completed.train, "train"), (direct.validation, completed.validation, "validation")] {
                XCTAssertEqual(a.trajectories, b.trajectories, "\(name) \(split)")
                XCTAssertEqual(a.count, b.count, "\(name) \(split)")
                XCTAssertEqual(a.slices, b.slices, "\(name) \(split)")
                XCTAssertEqual(a.statistics == nil, b.statistics == nil, "\(name) \(split)")
                if let x = a.statistics, let y = b.statistics {
                    try assertExactlyEqual(x.mean, y.mean, "\(name) \(split) mean")
                    try assertExactlyEqual(x.std, y.std, "\(name) \(split) std")
                }
                for index in [0, a.count - 1] {
                    let (p, q) = (try a.clip(at: index), try b.clip(at: index))
                    try assertExactlyEqual(p.frames, q.frames, "\(name) \(split) item \(index) frames")
                    try assertExactlyEqual(p.actions, q.actions, "\(name) \(split) item \(index) actions")
                }
            }
            XCTAssertEqual(completed.validation.source === completed.train.source, direct.validation.source === direct.train.source)
        }
    }

    /// A NaN action would train to a NaN loss (or poison the statistics, as `data info`'s
    /// `std [nan, -nan]` showed): the dataset is refused, naming the file's folder, the
    /// trajectory and the step; with statistics already cached, reading the clip refuses it.
    func testNonFiniteActionsAreRefusedNamingWhere() throws {
        let maze = dataRoot.appendingPathComponent("point_maze")
        let clean = try RecordedDatasets.splits(try config("point_maze"), progress: nil)
        let trajectory = try XCTUnwrap(clean.train.slices?.first?.trajectory)
        _ = try PyTorchBaseline.shared.run("""
        p = \(pythonString(maze.appendingPathComponent("actions.pth").path))
        a = torch.load(p)
        a[\(trajectory), 3, 1] = float('nan')
        torch.save(a, p)
        """)
        let mentions = [maze.path, "trajectory \(trajectory)", "NaN or infinite actions at step 3"]
        let cached = try RecordedDatasets.splits(try config("point_maze"), progress: nil)
        let index = try XCTUnwrap(cached.train.slices!.firstIndex { $0.trajectory == trajectory })
        assertOneLineError({ try cached.train.clip(at: index) }, mentions: mentions)
        try FileManager.default.removeItem(at: maze.appendingPathComponent("wm_stats_cache"))
        assertOneLineError({ try RecordedDatasets(try self.config("point_maze")) }, mentions: mentions)
    }

    /// Files the reader would misread are refused: float frames already in [0, 1] (the
    /// reference's /255 makes them black), float trajectory lengths, and a dataset with none of
    /// actions.pth, rel_actions.pth or abs_actions.pth names actions.pth.
    func testFilesTheReaderWouldMisreadAreRefused() throws {
        let maze = dataRoot.appendingPathComponent("point_maze")
        let episode = maze.appendingPathComponent("obses/episode_000.pth")
        _ = try PyTorchBaseline.shared.run("""
        p = \(pythonString(episode.path))
        torch.save(torch.load(p).double() / 255.0, p)
        import pickle
        lengths = pickle.load(open(\(pythonString(maze.appendingPathComponent("seq_lengths.pkl").path)), 'rb'))
        torch.save(torch.tensor(lengths, dtype=torch.float32), \(pythonString(maze.appendingPathComponent("seq_lengths.pth").path)))
        """)
        assertOneLineError({ try RecordedDatasets(try self.config("point_maze")) }, mentions: ["seq_lengths.pth", "float32", "integers"])
        try FileManager.default.removeItem(at: maze.appendingPathComponent("seq_lengths.pth"))
        let splits = try RecordedDatasets.splits(try config("point_maze"), progress: nil)
        let index = try XCTUnwrap(splits.train.slices!.firstIndex { $0.trajectory == 0 } ?? splits.validation.slices!.firstIndex { $0.trajectory == 0 })
        let dataset = splits.train.slices!.contains { $0.trajectory == 0 } ? splits.train : splits.validation
        assertOneLineError({ try dataset.clip(at: index) }, mentions: [episode.path, "float64 in [0, 1]", "uint8"])
        try FileManager.default.removeItem(at: maze.appendingPathComponent("actions.pth"))
        assertOneLineError({ try RecordedDatasets(try self.config("point_maze")) },
                           mentions: [maze.appendingPathComponent("actions.pth").path, "missing", "rel_actions.pth"])
    }

    func testBadInputGivesOneLineErrors() throws {
        let maze = dataRoot.appendingPathComponent("point_maze")
        assertOneLineError({ try RecordedDatasets(try self.config("point_maze", ["dataset.spec.action_dim=3"])) },
                           mentions: [maze.path, "2-dimensional", "dataset.spec.action_dim=2"])
        assertOneLineError({ try RecordedDatasets(try self.config("point_maze", ["model.num_frames=8"])) },
                           mentions: [maze.path, "40 steps", "model.num_frames"])
        assertOneLineError({ try RecordedDatasets(try self.config("pusht", ["dataset.loader.use_relative_actions=null"])) },
                           mentions: ["use_relative_actions"])
        // A truncated episode file and a truncated MP4 name themselves when a clip needs them.
        let episode = maze.appendingPathComponent("obses/episode_000.pth")
        try Data(try Data(contentsOf: episode).prefix(300)).write(to: episode)
        let splits = try RecordedDatasets.splits(try config("point_maze"), progress: nil)
        let index = try XCTUnwrap(splits.train.slices!.firstIndex { $0.trajectory == 0 })
        assertOneLineError({ try splits.train.clip(at: index) }, mentions: [episode.path])
        let video = dataRoot.appendingPathComponent("pusht_noise/train/obses/episode_000.mp4")
        try Data(try Data(contentsOf: video).prefix(200)).write(to: video)
        let pusht = try RecordedDatasets.splits(try config("pusht"), progress: nil)
        let clip = try XCTUnwrap(pusht.train.slices!.firstIndex { $0.trajectory == 0 })
        assertOneLineError({ try pusht.train.clip(at: clip) }, mentions: [video.path])
        // Missing and truncated metadata files.
        let actions = maze.appendingPathComponent("actions.pth")
        try Data(try Data(contentsOf: actions).prefix(100)).write(to: actions)
        assertOneLineError({ try RecordedDatasets(try self.config("point_maze")) }, mentions: [actions.path])
        try FileManager.default.removeItem(at: maze.appendingPathComponent("states.pth"))
        assertOneLineError({ try RecordedDatasets(try self.config("point_maze")) }, mentions: [maze.appendingPathComponent("states.pth").path, "missing"])
        assertOneLineError({ try RecordedDatasets(try self.config("pusht", ["dataset_dir=/nonexistent"])) },
                           mentions: ["/nonexistent/pusht_noise/train/states.pth"])
    }
}
