import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import NanoWMFormats
import NanoWMConfiguration
import NanoWMCore

/// RT-1's LeRobot v2.0 layout read directly, against pyarrow and OpenCV reading the same files
/// live (LeRobot itself is not installed here) and LeRobot's documented semantics: episodes
/// sorted by `episode_index`, global offsets the running sum of lengths, frames at
/// round(timestamp · fps), whole-dataset statistics from `meta/stats.json`.
final class LeRobotSourceTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var root: URL { directory.url.appendingPathComponent("rt1") }

    override func setUpWithError() throws { directory = try TemporaryDirectory("lerobot") }
    override func tearDown() { directory.remove() }

    private static let fixtures = pythonString(PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures").path)

    /// Writes the dataset and returns, read by pyarrow and cv2: per episode `actions_<e>`,
    /// `states_<e>`, the frames `frames_<e>` (uint8 [T, 3, H, W], RGB) and the stats.
    private func writeDataset() throws -> [String: Tensor] {
        try PyTorchBaseline.shared.run("""
        import sys, json, cv2, numpy as np, pyarrow.parquet as pq
        sys.path.insert(0, \(Self.fixtures))
        import format_datasets as fd
        root = \(pythonString(root.path))
        fd.write_lerobot(root)
        for e in range(3):
            chunk = e // 2
            table = pq.read_table(f'{root}/data/chunk-{chunk:03d}/episode_{e:06d}.parquet')
            O[f'actions_{e}'] = torch.tensor(table['action'].to_pylist(), dtype=torch.float32)
            O[f'states_{e}'] = torch.tensor(table['observation.state'].to_pylist(), dtype=torch.float32)
            video = cv2.VideoCapture(f'{root}/videos/chunk-{chunk:03d}/{fd.IMAGE_KEY}/episode_{e:06d}.mp4')
            frames = []
            while True:
                ok, frame = video.read()
                if not ok: break
                frames.append(torch.from_numpy(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)).permute(2, 0, 1))
            O[f'frames_{e}'] = torch.stack(frames)
        stats = json.load(open(f'{root}/meta/stats.json'))
        O['mean'] = torch.tensor(stats['action']['mean'], dtype=torch.float32)
        O['std'] = torch.tensor(stats['action']['std'], dtype=torch.float32)
        """)
    }

    func testEpisodesActionsStatesFramesAndStatisticsMatchPyarrowAndOpenCV() throws {
        let expected = try writeDataset()
        let source = try LeRobotSource(root: root, repoID: "IPEC-COMMUNITY/fractal20220817_data_lerobot")
        XCTAssertEqual(source.trajectoryCount, 3)
        XCTAssertEqual(source.episodes.map(\.globalStart), [0, 5, 12])
        XCTAssertEqual(source.episodes.map(\.length), [5, 7, 4])
        XCTAssertEqual(source.actionDimension, 7)
        XCTAssertEqual(source.stateDimension, 8)
        XCTAssertEqual(source.statisticsIdentity.id, "repo_id=IPEC-COMMUNITY/fractal20220817_data_lerobot")
        XCTAssertEqual(source.statisticsIdentity.root?.path, root.path)
        for e in 0..<3 {
            let record = try source.trajectory(e)
            XCTAssertEqual(record.length, [5, 7, 4][e])
            XCTAssertEqual(record.meta["episode_index"], "\(e)")
            XCTAssertEqual(record.meta["global_start"], "\([0, 5, 12][e])")
            try assertExactlyEqual(record.actions, expected["actions_\(e)"], "actions of episode \(e)")
            try assertExactlyEqual(record.states, expected["states_\(e)"], "states of episode \(e)")
            // Frames 1, 3, … as upstream asks (`range(start, end, step)`), from the same decoder family.
            let length = record.length
            let frames = try source.frames(e, start: 1, end: length, step: 2)
            let reference = try expected["frames_\(e)"]!.slice(dim: 0, start: 1, end: length, step: 2).to(.float32) / 255.0
            // OpenCV in Python (pip wheel, its own FFmpeg) and OpenCV here (Debian) decode the
            // lossy MPEG-4 stream; a frame-selection error would differ by far more than this.
            try assertClose(frames, reference, atol: 2.0 / 255.0, "frames of episode \(e)")
        }
        let stats = try XCTUnwrap(try source.shippedActionStatistics())
        try assertExactlyEqual(stats.mean, expected["mean"], "stats.json mean")
        try assertExactlyEqual(stats.std, expected["std"], "stats.json std")
    }

    /// RT-1's videos are AV1 (other LeRobot sets H.264): episode 0 re-encoded with libaom-av1
    /// and episode 1 with libx264 by the ffmpeg command line decode here to what ffmpeg itself
    /// decodes (rgb24), at the frames the timestamps name.
    func testAV1AndH264VideosDecode() throws {
        let expected = try PyTorchBaseline.shared.run("""
        import sys, subprocess, numpy as np
        sys.path.insert(0, \(Self.fixtures))
        import format_datasets as fd
        root = \(pythonString(root.path))
        fd.write_lerobot(root)
        h, w = fd.LEROBOT_FRAME
        for e, codec in ((0, ['-c:v', 'libaom-av1', '-crf', '20', '-cpu-used', '8']), (1, ['-c:v', 'libx264', '-crf', '10'])):
            path = f'{root}/videos/chunk-000/{fd.IMAGE_KEY}/episode_{e:06d}.mp4'
            subprocess.run(['ffmpeg', '-v', 'error', '-y', '-i', path, *codec, '-pix_fmt', 'yuv420p', path + '.new.mp4'], check=True)
            subprocess.run(['mv', path + '.new.mp4', path], check=True)
            raw = subprocess.run(['ffmpeg', '-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], check=True, capture_output=True).stdout
            O[f'frames_{e}'] = torch.from_numpy(np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3).copy()).permute(0, 3, 1, 2)
            O[f'codec_{e}'] = torch.tensor(list(subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', path], check=True, capture_output=True).stdout.strip()), dtype=torch.uint8)
        """)
        let source = try LeRobotSource(root: root, repoID: "r")
        for (e, codec) in [(0, "av1"), (1, "h264")] {
            XCTAssertEqual(String(decoding: try expected["codec_\(e)"]!.toArray(UInt8.self), as: UTF8.self), codec)
            let length = source.episodes[e].length
            let frames = try source.frames(e, start: 0, end: length, step: 1)
            let reference = try expected["frames_\(e)"]!.to(.float32) / 255.0
            // OpenCV and the ffmpeg CLI each convert YUV to RGB (swscale); measured difference
            // 0 here, the bound allows other builds' rounding; a wrong frame differs by ≥ 20/255.
            try assertClose(frames, reference, atol: 3.0 / 255.0, "\(codec) frames of episode \(e)")
        }
    }

    /// A 119-byte MPEG-4 stream from fuzzing whose header declares 24×1132 frames but whose
    /// frames decode at 18×8: OpenCV 4.6's VideoCapture converted them at the header's size,
    /// reading past FFmpeg's frame buffer (AddressSanitizer: heap-buffer-overflow) and returning
    /// whatever memory followed. Our decoder converts each frame at its own size, as FFmpeg's
    /// command line decodes it (ffprobe: width=18, height=8).
    func testFramesAreConvertedAtTheirOwnSize() throws {
        let url = FixtureFile.directory.appendingPathComponent("formats/mp4_fuzz_findings/frames_smaller_than_header.mp4")
        let info = try MP4Writer.probe(url)
        XCTAssertEqual([info.width, info.height], [18, 8])
        let frames = try VideoFrameReader.frames(url, indices: [0, info.frames - 1])
        XCTAssertEqual(frames.shape, [2, 8, 18, 3])
        assertOneLineError({ try VideoFrameReader.frames(url, indices: [info.frames]) }, mentions: [url.path, "\(info.frames) frames"])
    }

    func testRolloutsAndActionPadding() throws {
        _ = try writeDataset()
        XCTAssertEqual(try LeRobotSource(root: root, repoID: "r", rollouts: 2).episodes.map(\.number), [0, 1])
        XCTAssertEqual(try LeRobotSource(root: root, repoID: "r", rollouts: 0.5).episodes.map(\.number), [0])  // int(3 · 0.5)
        let padded = try LeRobotSource(root: root, repoID: "r", padActionDimension: 10)
        let plain = try LeRobotSource(root: root, repoID: "r")
        XCTAssertEqual(padded.actionDimension, 10)
        let actions = try padded.trajectory(1).actions
        XCTAssertEqual(actions.shape, [7, 10])
        try assertExactlyEqual(actions.slice(dim: 1, start: 0, end: 7).contiguous(), try plain.trajectory(1).actions, "native part")
        XCTAssertEqual(try actions.slice(dim: 1, start: 7).abs().sum().item(Double.self), 0)
        let stats = try XCTUnwrap(try padded.shippedActionStatistics())
        XCTAssertEqual(try stats.mean.toArray(Float.self).suffix(3), [0, 0, 0])
        XCTAssertEqual(try stats.std.toArray(Float.self).suffix(3), [1, 1, 1])
        assertOneLineError({ try LeRobotSource(root: root, repoID: "r", padActionDimension: 6) }, mentions: ["pad_action_dim", "7"])
    }

    /// The loader keys upstream's rt1 configuration sets, and LeRobot's default root.
    func testMakeReadsTheLoaderKeys() throws {
        _ = try writeDataset()
        let loader: ConfigNode = ["data_path": "IPEC-COMMUNITY/fractal20220817_data_lerobot", "root": .string(root.path),
                                  "image_key": "observation.images.image", "n_rollout": 2, "pad_action_dim": 9,
                                  "preload_trajectories": true]
        let source = try LeRobotSource.make(loader: LoaderSettings(subtree: loader))
        XCTAssertEqual(source.trajectoryCount, 2)
        XCTAssertEqual(source.actionDimension, 9)
        XCTAssertEqual(source.repoID, "IPEC-COMMUNITY/fractal20220817_data_lerobot")
        let home = directory.url.appendingPathComponent("home")
        assertOneLineError({ try LeRobotSource.make(loader: LoaderSettings(subtree: ["data_path": "org/name"]), environment: ["HF_LEROBOT_HOME": home.path]) },
                           mentions: [home.appendingPathComponent("org/name/meta/info.json").path])
        assertOneLineError({ try LeRobotSource.make(loader: LoaderSettings(subtree: ["root": .string(root.path)])) }, mentions: ["dataset.loader.data_path"])
    }

    func testBadInputsGiveOneLineErrors() throws {
        assertOneLineError({ try LeRobotSource(root: root, repoID: "r") }, mentions: ["meta/info.json", "RT1_DATA_ROOT"])
        _ = try writeDataset()
        assertOneLineError({ try LeRobotSource(root: root, repoID: "r", imageKey: "observation.images.wrist") },
                           mentions: ["observation.images.wrist", "image_key", "observation.images.image"])
        // A truncated parquet file and a truncated video name the file.
        let parquet = root.appendingPathComponent("data/chunk-000/episode_000001.parquet")
        let bytes = try Data(contentsOf: parquet)
        try bytes.prefix(bytes.count / 2).write(to: parquet)
        assertOneLineError({ try LeRobotSource(root: root, repoID: "r").trajectory(1) }, mentions: ["episode_000001.parquet"])
        let video = root.appendingPathComponent("videos/chunk-000/observation.images.image/episode_000000.mp4")
        let videoBytes = try Data(contentsOf: video)
        try videoBytes.prefix(videoBytes.count / 3).write(to: video)
        assertOneLineError({ try LeRobotSource(root: root, repoID: "r").frames(0, start: 0, end: 5, step: 1) }, mentions: ["episode_000000.mp4"])
        // An action dimension that disagrees with the metadata.
        let info = root.appendingPathComponent("meta/info.json")
        let text = try String(contentsOf: info, encoding: .utf8)
        try text.replacingOccurrences(of: "\"shape\": [\n        7\n      ]", with: "\"shape\": [\n        6\n      ]").write(to: info, atomically: false, encoding: .utf8)
        assertOneLineError({ try LeRobotSource(root: root, repoID: "r").trajectory(2) }, mentions: ["episode_000002.parquet", "'action'", "6 numbers"])
        assertOneLineError({ try LeRobotSource(root: root, repoID: "r").frames(2, start: 2, end: 9, step: 1) }, mentions: ["episode_000002.parquet", "episode 2", "4 frames", "shorter than the clip"])
        // Path templates that lead out of the dataset folder are refused, not opened.
        let original = try String(contentsOf: info, encoding: .utf8)
        for hostile in ["../../../../etc/passwd", "/etc/passwd", "data/../../outside/{episode_index}.parquet"] {
            let escaped = hostile.replacingOccurrences(of: "/", with: "\\/")
            let text = original.replacingOccurrences(of: "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet", with: hostile)
                .replacingOccurrences(of: "data\\/chunk-{episode_chunk:03d}\\/episode_{episode_index:06d}.parquet", with: escaped)
            XCTAssertNotEqual(text, original, "the fixture's data_path changed")
            try text.write(to: info, atomically: false, encoding: .utf8)
            assertOneLineError({ try LeRobotSource(root: root, repoID: "r") }, mentions: ["data_path", hostile, "outside the dataset folder"])
        }
    }
}
