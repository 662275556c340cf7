import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// CSGO's HDF5 episodes: the same files, order, episode ids, actions and frames as the
/// reference's `CSGODataSource` returns (Tests/Fixtures/formats/csgo_reference.json, made by
/// make_format_fixtures.py from the dataset format_datasets.py writes, which this test writes
/// again with h5py); the shipped split lists and start indices; bad input in one line.
final class CSGOSourceTests: XCTestCase {
    private static var directory: TemporaryDirectory!
    private static var lists: [String: URL] = [:]
    private var root: URL { Self.directory.url.appendingPathComponent("csgo") }

    private static let fixtures = PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures")

    /// Writing 4 × 2000 HDF5 datasets takes a few seconds: once for the whole class.
    override class func setUp() {
        super.setUp()
        do {
            directory = try TemporaryDirectory("csgo")
            let root = directory.url.appendingPathComponent("csgo")
            _ = try PyTorchBaseline.shared.run("""
            import sys
            sys.path.insert(0, \(pythonString(fixtures.path)))
            import format_datasets as fd
            fd.write_csgo(\(pythonString(root.path)))
            """)
            lists = ["train": root.appendingPathComponent("train_split.txt"), "val": root.appendingPathComponent("val_split.txt")]
        } catch { XCTFail("cannot write the CSGO test dataset: \(error)") }
    }

    override class func tearDown() { directory?.remove() }

    private func reference() throws -> [String: Any] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("formats/csgo_reference.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Compares a source with what the reference recorded: ids, shapes, action rows and clips,
    /// all exactly (both sides are float32 copies of the file's values, frames uint8/255).
    private func assertMatches(_ source: CSGOSource, _ recorded: [String: Any], _ what: String) throws {
        let trajectories = try XCTUnwrap(recorded["trajectories"] as? [[String: Any]])
        XCTAssertEqual(source.trajectoryCount, recorded["num_trajectories"] as? Int, what)
        XCTAssertEqual(source.actionDimension, recorded["action_dim"] as? Int, what)
        XCTAssertEqual(source.stateDimension, recorded["state_dim"] as? Int, what)
        for (i, expected) in trajectories.enumerated() {
            let record = try source.trajectory(i)
            XCTAssertEqual(record.meta["episode_id"], expected["episode_id"] as? String, "\(what) \(i)")
            XCTAssertEqual(record.length, expected["seq_length"] as? Int)
            XCTAssertEqual(record.states.shape, expected["states_shape"] as? [Int])
            XCTAssertEqual(record.actions.shape, expected["actions_shape"] as? [Int])
            for (row, values) in try XCTUnwrap(expected["action_rows"] as? [String: [Double]]) {
                let ours = try record.actions.select(dim: 0, index: Int(row)!).toArray(Float.self)
                XCTAssertEqual(ours, values.map(Float.init), "\(what) trajectory \(i) action row \(row)")
            }
        }
        for clip in try XCTUnwrap(recorded["clips"] as? [[String: Any]]) {
            let frames = try source.frames(clip["traj"] as! Int, start: clip["start"] as! Int, end: clip["end"] as! Int, step: clip["step"] as! Int)
            XCTAssertEqual(frames.shape, clip["shape"] as? [Int])
            XCTAssertEqual(try frames.toArray(Float.self), (clip["values"] as! [Double]).map(Float.init), "\(what) clip \(clip["traj"]!)")
        }
    }

    func testSameEpisodesActionsAndFramesAsTheReference() throws {
        let recorded = try reference()
        try assertMatches(try CSGOSource(root: root, fileList: Self.lists["train"]), try XCTUnwrap(recorded["train"] as? [String: Any]), "train")
        try assertMatches(try CSGOSource(root: root, fileList: Self.lists["val"]), try XCTUnwrap(recorded["val"] as? [String: Any]), "val")
        try assertMatches(try CSGOSource(root: root, rollouts: 3), try XCTUnwrap(recorded["scan"] as? [String: Any]), "scan")
        XCTAssertEqual(try CSGOSource(root: root).statisticsIdentity.id, "data_path=\(root.path)")
    }

    /// The frames and actions equal h5py's reading of the same files (BGR flipped to RGB).
    func testFramesAndActionsEqualH5py() throws {
        let source = try CSGOSource(root: root, fileList: Self.lists["train"])
        let expected = try PyTorchBaseline.shared.run("""
        import h5py, numpy as np
        with h5py.File(\(pythonString(source.files[2].url.path)), 'r') as f:
            O['actions'] = torch.from_numpy(np.stack([f[f'frame_{i}_y'][:] for i in range(1000)]))
            O['frames'] = torch.from_numpy(np.stack([f[f'frame_{i}_x'][:][:, :, ::-1].copy() for i in range(7, 20, 4)])).permute(0, 3, 1, 2)
        """)
        try assertExactlyEqual(try source.trajectory(2).actions, expected["actions"], "actions")
        try assertExactlyEqual(try source.frames(2, start: 7, end: 20, step: 4), try expected["frames"]!.to(.float32) / 255.0, "frames")
    }

    /// `make` reads the file lists and, for validation, the start indices paired one to one.
    func testMakeReadsFileListsAndStartIndices() throws {
        let starts = Self.directory.url.appendingPathComponent("starts.npy")
        _ = try PyTorchBaseline.shared.run("import numpy as np; np.save(\(pythonString(starts.path)), np.array([12, 980], dtype=np.int64))")
        let loader: ConfigNode = ["data_path": .string(root.path), "train_file_list": .string(Self.lists["train"]!.path),
                                  "val_file_list": .string(Self.lists["val"]!.path), "val_start_indices": .string(starts.path),
                                  "n_rollout": nil, "use_auxiliary_state": false]
        let train = try CSGOSource.make(loader: LoaderSettings(subtree: loader), split: .train)
        XCTAssertEqual(train.source.trajectoryCount, 3)
        XCTAssertNil(train.fixedStartIndices)
        let val = try CSGOSource.make(loader: LoaderSettings(subtree: loader), split: .val)
        XCTAssertEqual(val.source.files.map(\.id), ["1-200/hdf5_dm_july2021_1.hdf5", "1-200/hdf5_dm_july2021_3.hdf5"])
        XCTAssertEqual(val.fixedStartIndices, [12, 980])
        var fewer = loader
        fewer = fewer.merging(["n_rollout": 1])
        assertOneLineError({ try CSGOSource.make(loader: LoaderSettings(subtree: fewer), split: .val) }, mentions: ["starts.npy", "2 start indices for 1"])
        assertOneLineError({ try CSGOSource.make(loader: LoaderSettings(subtree: loader.merging(["use_auxiliary_state": true])), split: .train) },
                           mentions: ["use_auxiliary_state"])
        // A loader value of the wrong type is named by its full key.
        assertOneLineError({ try CSGOSource.make(loader: LoaderSettings(subtree: loader.merging(["n_rollout": "all"])), split: .train) },
                           mentions: ["dataset.loader.n_rollout"])
    }

    /// `dataset=game/csgo` through the shared dataset factory (upstream's file-list branch):
    /// each list is shuffled with np.random.seed(42), validation clips start at the fixed start
    /// indices paired with the shuffled order, and training draws random windows.
    func testFileListBranchPairsStartIndicesWithTheShuffledValidationOrder() throws {
        let starts = Self.directory.url.appendingPathComponent("branch_starts.npy")
        let expected = try PyTorchBaseline.shared.run("""
        import numpy as np
        np.save(\(pythonString(starts.path)), np.array([12, 980], dtype=np.int64))
        np.random.seed(42); order = np.arange(2); np.random.shuffle(order)
        O['val_order'] = torch.from_numpy(order.astype(np.int64))
        np.random.seed(42); order = np.arange(3); np.random.shuffle(order)
        O['train_order'] = torch.from_numpy(order.astype(np.int64))
        """)
        let config: ConfigNode = [
            "dataset": ["name": "csgo", "frame_interval": 1, "spec": ["action_dim": 51],
                        "loader": ["data_path": .string(root.path), "train_file_list": .string(Self.lists["train"]!.path),
                                   "val_file_list": .string(Self.lists["val"]!.path), "val_start_indices": .string(starts.path),
                                   "normalize_action": false, "random_seed": 42, "train_slice_mode": "random",
                                   "val_slice_mode": "exhaustive", "validation_size": nil]],
            "model": ["num_frames": 4, "image_size": 32]]
        let datasets = try RecordedDatasets(try DatasetSettings(config))
        let validationOrder = try expected["val_order"]!.toArray(Int64.self).map { Int($0) }
        XCTAssertEqual(datasets.validation.trajectories, validationOrder)
        XCTAssertEqual(datasets.train.trajectories, try expected["train_order"]!.toArray(Int64.self).map { Int($0) })
        // Start i goes with the i-th trajectory of the shuffled order; 980 + 4 > 1000 is skipped, as upstream.
        let kept = zip(validationOrder, [12, 980]).filter { $0.1 + 4 <= 1000 }.map { ClipSlice(trajectory: $0.0, start: $0.1, end: $0.1 + 4) }
        XCTAssertEqual(datasets.validation.slices, kept)
        let clip = try datasets.validation.clip(at: 0)
        XCTAssertEqual(clip.frames.shape, [4, 3, 32, 32])
        XCTAssertEqual(clip.actions.shape, [4, 51])
        XCTAssertEqual(try datasets.train.clip(at: 0).actions.shape, [4, 51])
    }

    /// The shipped split data: 5000 training and 500 test names, and 500 start indices that
    /// numpy reads the same way.
    func testShippedSplitFilesAreUpstreamsData() throws {
        let folder = PyTorchBaseline.repositoryRoot.appendingPathComponent("configs/dataset/game/csgo_splits")
        let count = { (name: String) in try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").count }
        XCTAssertEqual(try count("train_split.txt"), 5000)
        XCTAssertEqual(try count("test_split.txt"), 500)
        let npy = folder.appendingPathComponent("csgo_validation_start_indices.npy")
        let (shape, values) = try NumpyFile.integers(npy)
        XCTAssertEqual(shape, [500])
        let numpy = try PyTorchBaseline.shared.run("import numpy as np; O['v'] = torch.from_numpy(np.load(\(pythonString(npy.path))))")
        XCTAssertEqual(values, try numpy["v"]!.toArray(Int64.self))
        let yaml = try String(contentsOf: PyTorchBaseline.repositoryRoot.appendingPathComponent("configs/dataset/game/csgo.yaml"), encoding: .utf8)
        for name in ["train_split.txt", "test_split.txt", "csgo_validation_start_indices.npy"] {
            XCTAssertTrue(yaml.contains("configs/dataset/game/csgo_splits/\(name)"), name)
        }
    }

    func testBadInputsGiveOneLineErrors() throws {
        let scratch = Self.directory.url.appendingPathComponent("bad-\(UUID())")
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("1-200"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        assertOneLineError({ try CSGOSource(root: scratch.appendingPathComponent("nowhere")) }, mentions: ["nowhere", "csgo_data_dir"])
        let list = scratch.appendingPathComponent("list.txt")
        try "hdf5_dm_july2021_7.hdf5\n".write(to: list, atomically: false, encoding: .utf8)
        assertOneLineError({ try CSGOSource(root: scratch, fileList: list) }, mentions: ["1-200/hdf5_dm_july2021_7.hdf5", "list.txt"])
        // A truncated file, and one whose actions are not 51 wide.
        let original = try CSGOSource(root: root, fileList: Self.lists["train"]).files[0].url
        let truncated = scratch.appendingPathComponent("1-200/hdf5_dm_july2021_7.hdf5")
        let bytes = try Data(contentsOf: original)
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        assertOneLineError({ try CSGOSource(root: scratch, fileList: list).trajectory(0) }, mentions: ["hdf5_dm_july2021_7.hdf5"])
        assertOneLineError({ try CSGOSource(root: scratch, fileList: list).frames(0, start: 990, end: 999, step: 1) }, mentions: ["hdf5_dm_july2021_7.hdf5"])
        _ = try PyTorchBaseline.shared.run("""
        import h5py, numpy as np
        with h5py.File(\(pythonString(truncated.path)), 'w') as f:
            for i in range(1000):
                f[f'frame_{i}_y'] = np.zeros(50, np.float32)
                f[f'frame_{i}_x'] = np.zeros((2, 2, 3), np.uint8)
        """)
        assertOneLineError({ try CSGOSource(root: scratch, fileList: list).trajectory(0) }, mentions: ["frame_0_y", "[50]", "51"])
        assertOneLineError({ try CSGOSource(root: scratch, fileList: list).frames(0, start: 995, end: 1005, step: 1) }, mentions: ["1000-step"])
        // An empty frame names its file and dataset, not libtorch's resize.
        _ = try PyTorchBaseline.shared.run("""
        import h5py, numpy as np
        with h5py.File(\(pythonString(truncated.path)), 'r+') as f:
            del f['frame_3_x']
            f['frame_3_x'] = np.zeros((0, 4, 3), np.uint8)
        """)
        assertOneLineError({ try CSGOSource(root: scratch, fileList: list).frames(0, start: 2, end: 5, step: 1) },
                           mentions: ["hdf5_dm_july2021_7.hdf5", "'frame_3_x' has shape [0, 4, 3]"])
    }

    /// Inputs on which libhdf5 asks malloc for 4–8 GB (a hostile local heap size): each read
    /// ends in one line or succeeds, and the HDF5 reader process's peak memory stays under 2 GB
    /// (the allocation is reserved, not touched).
    func testHDF5HugeHeapFindingsStaySmall() throws {
        let findings = Self.fixtures.appendingPathComponent("formats/hdf5_fuzz_oom")
        let names = try FileManager.default.contentsOfDirectory(atPath: findings.path).filter { $0.hasSuffix(".hdf5") }.sorted()
        XCTAssertEqual(names.count, 7)
        for name in names {
            do {
                let file = try HDF5File(url: findings.appendingPathComponent(name))
                for step in 0..<3 {
                    _ = try file.read("frame_\(step)_x", as: .uint8)
                    _ = try file.read("frame_\(step)_y", as: .float32)
                }
            } catch {
                XCTAssertFalse("\(error)".contains("\n"), "\(error)")
                XCTAssertTrue("\(error)".contains(name), "\(error)")
            }
            let peak = try XCTUnwrap(HDF5File.readerPeakMemoryBytes, "no HDF5 reader process after reading \(name)")
            XCTAssertLessThan(peak, 2 << 30, "the HDF5 reader's peak memory passed 2 GB on \(name)")
        }
    }

    /// Files on which libhdf5 1.10.8 itself crashes: six divisions by zero in
    /// H5D__chunk_set_info (a chunked layout with a zero dimension) and a NULL read under
    /// H5HL_protect. libhdf5 runs in the HDF5 reader process, so each crash is one line naming
    /// the file and the signal, this process lives on, and the next file is read by a new reader.
    func testCrashesInsideLibhdf5EndTheReaderNotTheProgram() throws {
        let findings = Self.fixtures.appendingPathComponent("formats/hdf5_fuzz_libhdf5_crashes")
        let names = try FileManager.default.contentsOfDirectory(atPath: findings.path).filter { $0.hasSuffix(".hdf5") }.sorted()
        XCTAssertEqual(names.count, 7)
        let source = try CSGOSource(root: root, fileList: Self.lists["val"]!)
        let expected = try source.frames(0, start: 0, end: 2, step: 1)
        for name in names {
            assertOneLineError({
                // CSGOSource's order: an episode's actions first, then its frames.
                let file = try HDF5File(url: findings.appendingPathComponent(name))
                for step in 0..<3 { _ = try file.read("frame_\(step)_y", as: .float32) }
                for step in 0..<3 { _ = try file.read("frame_\(step)_x", as: .uint8) }
            }, mentions: [name, "libhdf5 crashed", "HDF5 reader process"])
            try assertExactlyEqual(try source.frames(0, start: 0, end: 2, step: 1), expected, "after \(name)")
        }
    }

    /// A worker of the reader killed between requests (the kernel's OOM killer, a user's kill)
    /// is replaced without blaming the next file.
    func testAReaderKilledBetweenRequestsIsReplaced() throws {
        let source = try CSGOSource(root: root, fileList: Self.lists["val"]!)
        let expected = try source.frames(0, start: 0, end: 3, step: 1)
        let pid = try XCTUnwrap(HDF5File.readerProcess)
        XCTAssertEqual(kill(pid, SIGKILL), 0)
        // kill returns before the process has ended; the test is of a worker already gone
        // (reaped by the reader, or a zombie until it is).
        let deadline = Date().addingTimeInterval(10)
        while processIsRunning(pid), Date() < deadline { usleep(10_000) }
        try assertExactlyEqual(try source.frames(0, start: 0, end: 3, step: 1), expected, "a new reader")
        XCTAssertNotEqual(HDF5File.readerProcess, pid)
    }

    /// Workers killed at any moment from outside, hundreds of times while episodes are read:
    /// each read returns the file's frames or fails in one line naming SIGKILL. None waits for
    /// an answer that never comes or takes another request's answer, which a kill could cause
    /// while a worker was taking a request in pieces or sending a frame's bytes.
    func testWorkersKilledAtAnyMomentLeaveNoReadWaiting() throws {
        let source = try CSGOSource(root: root, fileList: Self.lists["val"]!)
        let expected = try source.frames(0, start: 0, end: 3, step: 1)
        /// The killing thread's count, and when to stop.
        final class Killer: @unchecked Sendable {
            private let lock = NSLock()
            private var stopRequested = false, killCount = 0
            var stopped: Bool { lock.withLock { stopRequested } }
            var kills: Int { lock.withLock { killCount } }
            func stop() { lock.withLock { stopRequested = true } }
            func killed() { lock.withLock { killCount += 1 } }
        }
        let state = Killer()
        let killer = Thread {
            var generator = SystemRandomNumberGenerator()
            while !state.stopped {
                usleep(UInt32.random(in: 0..<3_000, using: &generator))
                let readers = childProcesses(of: getpid()).filter { processName($0) == "hdf5-reader" }
                for worker in readers.flatMap(childProcesses(of:)) where kill(worker, SIGKILL) == 0 { state.killed() }
            }
        }
        killer.start()
        var read = 0, failed = 0
        let started = Date()
        while read + failed < 400, Date().timeIntervalSince(started) < 60 {
            do {
                try assertExactlyEqual(try source.frames(0, start: 0, end: 3, step: 1), expected, "a read between kills")
                read += 1
            } catch {
                let text = "\(error)"
                XCTAssertTrue(text.contains("SIGKILL") && !text.contains("\n"), text)
                failed += 1
            }
        }
        state.stop()
        while !killer.isFinished { usleep(1_000) }
        print("\(state.kills) workers killed: \(read) reads done, \(failed) failed on SIGKILL")
        XCTAssertGreaterThan(read, 20)
        XCTAssertGreaterThan(failed, 5, "too few kills landed inside a read to test anything")
        try assertExactlyEqual(try source.frames(0, start: 0, end: 3, step: 1), expected, "after the kills")
    }

    /// Files on which libhdf5 1.10.8 itself crashed (a NULL memcpy under
    /// H5SM_get_fheap_addr): a dataset header's message claims to live in the shared-message
    /// heap of a file that has no shared-message table. The shim walks the header first and
    /// refuses it in one line; without that, this test process dies.
    func testSharedMessageWithoutATableIsRefusedBeforeLibhdf5() throws {
        let findings = Self.fixtures.appendingPathComponent("formats/hdf5_fuzz_shared_message")
        let names = try FileManager.default.contentsOfDirectory(atPath: findings.path).filter { $0.hasSuffix(".hdf5") }.sorted()
        XCTAssertEqual(names.count, 2)
        for name in names {
            let url = findings.appendingPathComponent(name)
            assertOneLineError({
                let file = try HDF5File(url: url)
                for step in 0..<3 {
                    _ = try file.shape("frame_\(step)_x")
                    _ = try file.shape("frame_\(step)_y")
                }
            }, mentions: [name, "shared-message table"])
        }
    }

    /// Files the HDF5 fuzz target crashed on before the fixes (an overflowing shape, a stored
    /// size libhdf5 1.10 then read through a NULL pointer, huge allocations), and 300 single-byte
    /// corruptions of a small episode: each read ends in one line or succeeds, never a crash.
    func testFuzzFindingsAndCorruptedFilesGiveOneLineErrors() throws {
        let findings = Self.fixtures.appendingPathComponent("formats/hdf5_fuzz_findings")
        let names = try FileManager.default.contentsOfDirectory(atPath: findings.path).filter { $0.hasSuffix(".hdf5") }.sorted()
        XCTAssertEqual(names.count, 5)
        for name in names {
            assertOneLineError({
                let file = try HDF5File(url: findings.appendingPathComponent(name))
                for step in 0..<3 {
                    _ = try file.read("frame_\(step)_x", as: .uint8)
                    _ = try file.read("frame_\(step)_y", as: .float32)
                }
            }, mentions: [name])
        }
        let small = Self.directory.url.appendingPathComponent("small.hdf5")
        _ = try PyTorchBaseline.shared.run("""
        import h5py, numpy as np
        with h5py.File(\(pythonString(small.path)), 'w') as f:
            for i in range(3):
                f[f'frame_{i}_x'] = np.full((2, 3, 3), i, np.uint8)
                f[f'frame_{i}_y'] = np.arange(51, dtype=np.float32) * i
        """)
        let original = [UInt8](try Data(contentsOf: small))
        let damaged = Self.directory.url.appendingPathComponent("damaged.hdf5")
        var generator = SeededRandom(seed: 5)
        var failures = 0
        for round in 0..<300 {
            var bytes = original
            if round % 10 == 0 { bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count)))) } else {
                bytes[Int(generator.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            }
            try Data(bytes).write(to: damaged)
            do {
                let file = try HDF5File(url: damaged)
                for step in 0..<3 {
                    _ = try file.read("frame_\(step)_x", as: .uint8)
                    _ = try file.read("frame_\(step)_y", as: .float32)
                }
            } catch {
                failures += 1
                XCTAssertFalse("\(error)".contains("\n"), "\(error)")
                XCTAssertTrue("\(error)".contains("damaged.hdf5"), "\(error)")
            }
        }
        XCTAssertGreaterThanOrEqual(failures, 30, "every truncation must fail")
    }
}
