import Foundation
import SwiftTorch
import TestSupport
import XCTest
import NanoWM
import NanoWMCore
import NanoWMFormats

/// Depth Anything 3 exported by scripts/export_geometry.py (random weights made in the test run,
/// the small variant at a small size) against the depth-anything-3 package's own inference on
/// the same frames: our preparation of the frames, the exported network's outputs, and the
/// point cloud of the reference's unprojection on the package's outputs.
final class GeometryNetworkTests: XCTestCase {
    private static var directory: TemporaryDirectory!
    private static var network: URL { directory.url.appendingPathComponent("geometry.pt") }
    /// 3 frames of 64×48 at process_res 56 become 56×42 (the size the module is traced for).
    static let (frameWidth, frameHeight, processRes) = (64, 48, 56)

    override class func setUp() {
        super.setUp()
        do {
            directory = try TemporaryDirectory("geometry")
            let script = PyTorchBaseline.repositoryRoot.appendingPathComponent("scripts/export_geometry.py").path
            _ = try PyTorchBaseline.shared.run("""
            import subprocess, sys
            done = subprocess.run([sys.executable, \(pythonString(script)), '--model', 'da3-small', '--random-init', '--seed', '0',
                                   '--video-size', '\(frameHeight)', '\(frameWidth)', '--process-res', '\(processRes)',
                                   '--output', \(pythonString(network.path))], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            """)
        } catch { XCTFail("cannot export the test geometry network: \(error)") }
    }

    override class func tearDown() { directory?.remove() }

    /// Random frames, the same on both sides.
    private func frames(seed: Int) throws -> [RGBImage] {
        try manualSeed(UInt64(seed))
        let pixels = try Tensor.randint(0, 256, [3, Self.frameHeight, Self.frameWidth, 3]).to(.uint8)
        return try (0..<3).map { try RGBImage(tensor: pixels.select(dim: 0, index: $0)) }
    }

    private func packageRun(_ frames: [RGBImage]) throws -> [String: Tensor] {
        let stacked = try Tensor(frames.flatMap(\.pixels)).reshape([frames.count, Self.frameHeight, Self.frameWidth, 3])
        return try PyTorchBaseline.shared.run("""
        import sys
        import numpy as np
        sys.path.insert(0, \(pythonString(PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures").path)))
        import da3_reference as ref
        frames = [f for f in I['frames'].numpy()]
        api = ref.build('da3-small', seed=0)
        O['input'] = ref.package_preprocess(frames, \(Self.processRes))
        out = ref.package_inference(api, frames, \(Self.processRes))
        for key in ['depth', 'conf', 'extrinsics', 'intrinsics', 'processed_images']:
            O[key] = torch.from_numpy(np.ascontiguousarray(out[key]))
        import importlib.util
        """, inputs: ["frames": stacked])
    }

    /// The frames prepared as the package prepares them (OpenCV's area and bicubic resizes, the
    /// normalisation in float32), and the exported network's outputs equal the package's within
    /// 1e-4 (relative above 1: the focal lengths of random weights reach 10⁷ pixels); the
    /// reported frames are the package's exactly.
    func testExportedNetworkEqualsThePackage() throws {
        let network = try GeometryNetwork(contentsOf: Self.network.path)
        XCTAssertEqual(network.description.model, "da3-small")
        let frames = try frames(seed: 1)
        let expected = try packageRun(frames)
        let (input, images) = try network.prepare(frames, processRes: Self.processRes)
        let inputDifference = try (input - expected["input"]!).abs().max().item(Double.self)
        // OpenCV here (Debian's) and the wheel's cv2 may round a resized byte apart: one step is 1/255/std ≈ 0.0175.
        XCTAssertLessThanOrEqual(inputDifference, 1e-6, "prepared frames differ by \(inputDifference)")
        try assertExactlyEqual(images, expected["processed_images"]!, "processed_images")
        let prediction = try network.predict(frames, processRes: Self.processRes)
        for (name, ours, theirs) in [("depth", prediction.depth, expected["depth"]!), ("conf", prediction.confidence, expected["conf"]!),
                                     ("extrinsics", prediction.extrinsics, expected["extrinsics"]!),
                                     ("intrinsics", prediction.intrinsics, expected["intrinsics"]!)] {
            let difference = try ((ours - theirs).abs() / theirs.abs().clamp(min: 1)).max().item(Double.self)
            XCTAssertLessThanOrEqual(difference, 1e-4, name)
            print("geometry \(name): max relative difference \(difference)")
        }
    }

    /// `nanowm pointcloud` on a video: every other frame up to 3 (0, 2, 4 of 7), the cloud and
    /// viewer file of the library's PointCloud on the network's prediction for those frames (the
    /// parts are compared with the package and the reference above and in PointCloudTests).
    func testPointCloudCommandWritesTheCloudAndViewerFile() throws {
        let video = Self.directory.url.appendingPathComponent("clip.mp4")
        let source = try (0..<7).flatMap { seed in try frames(seed: 10 + seed).prefix(1) }
        try MP4Writer.write(source, fps: 4, to: video)
        let output = Self.directory.url.appendingPathComponent("out/cloud.ply")
        let result = try NanoWMExecutable.run(["pointcloud", video.path, "--geometry", Self.network.path, "--output", output.path,
                                               "--frame-step", "2", "--max-frames", "3", "--process-res", "\(Self.processRes)",
                                               "--max-points", "3000"])
        XCTAssertEqual(result.status, 0, result.error)
        let decoded = try VideoFrameReader.frames(video, indices: [0, 2, 4])
        let chosen = try (0..<3).map { try RGBImage(tensor: decoded.select(dim: 0, index: $0)) }
        let prediction = try GeometryNetwork(contentsOf: Self.network.path).predict(chosen, processRes: Self.processRes)
        let expected = try PointCloud(prediction, maxPoints: 3000)
        XCTAssertGreaterThan(expected.perFrameCounts.reduce(0, +), 3000, "the subsampling is part of the test")
        let written = try PLYFile.read(output)
        XCTAssertEqual(written.points, expected.points)
        XCTAssertEqual(written.colors, expected.colors)
        let viewer = try NumpyArchive.read(output.deletingLastPathComponent().appendingPathComponent("cloud_viewer.npz").path)
        XCTAssertEqual(Set(viewer.keys), ["depth", "conf", "intrinsics", "extrinsics", "processed_images", "conf_threshold"])
        try assertExactlyEqual(viewer["depth"]!, prediction.depth, "viewer depth")
        XCTAssertEqual(try viewer["conf_threshold"]!.item(Double.self), 40)
        XCTAssertTrue(result.output.contains("3 frames of 64×48"), result.output)
    }

    /// `nanowm rollout --from-dataset … --pointcloud G`: each generated video's cloud beside it,
    /// at the processing size the export was made for (16×16 frames at 56 → 56×56); a clip
    /// rollout into a tensor file is refused, as it has no video to take frames from.
    func testRolloutWritesItsPointCloud() throws {
        let scratch = try TemporaryDirectory("rollout-cloud")
        defer { scratch.remove() }
        let train = try NanoWMExecutable.run(["train", "--run-dir", scratch.path("run")]
                                             + TinyTraining.overrides(dataDirectory: scratch.url.appendingPathComponent("data")))
        XCTAssertEqual(train.status, 0, train.error)
        let geometry = scratch.path("geometry16.pt")
        let script = PyTorchBaseline.repositoryRoot.appendingPathComponent("scripts/export_geometry.py").path
        _ = try PyTorchBaseline.shared.run("""
        import subprocess, sys
        done = subprocess.run([sys.executable, \(pythonString(script)), '--model', 'da3-small', '--random-init', '--seed', '0',
                               '--video-size', '16', '16', '--process-res', '56', '--output', \(pythonString(geometry))],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        """)
        let checkpoint = try XCTUnwrap(try RunDirectory(scratch.url.appendingPathComponent("run")).latestCheckpoint).path
        let folder = scratch.url.appendingPathComponent("rollouts")
        let rolled = try NanoWMExecutable.run(["rollout", "--checkpoint", checkpoint, "--from-dataset", folder.path, "--num-samples", "1",
                                               "--frames", "6", "--steps", "2", "--pointcloud", geometry])
        XCTAssertEqual(rolled.status, 0, rolled.error)
        let cloud = try PLYFile.read(folder.appendingPathComponent("sample_0000_gen.ply"))
        XCTAssertGreaterThan(cloud.points.count, 0)
        let viewer = try NumpyArchive.read(folder.appendingPathComponent("sample_0000_gen_viewer.npz").path)
        XCTAssertEqual(viewer["depth"]?.shape, [6, 56, 56])
        try assertCommandFailsWithOneLine(["rollout", "--checkpoint", checkpoint, "--input", scratch.path("none.safetensors"),
                                           "--output", scratch.path("x.safetensors"), "--pointcloud", geometry],
                                          mentions: ["--pointcloud needs a video --output"])
    }

    /// Frames of another size than the export's, or too few frames: one line that says how to fix it.
    func testWrongSizeOrTooFewFramesAreOneLine() throws {
        let network = try GeometryNetwork(contentsOf: Self.network.path)
        let frames = try frames(seed: 2)
        let other = try frames.map { try $0.resized(width: 80, height: 80) }
        assertOneLineError({ try network.prepare(other, processRes: Self.processRes) },
                           mentions: ["exported for 56×42", "scripts/export_geometry.py --video-size 80 80 --process-res 56"])
        assertOneLineError({ try network.prepare(Array(frames.prefix(2)), processRes: Self.processRes) }, mentions: ["at least 3 frames"])
        assertOneLineError({ try GeometryNetwork(contentsOf: "/nonexistent/geometry.pt") }, mentions: ["/nonexistent/geometry.pt"])
    }
}
