import Foundation
import SwiftTorch
import TestSupport
import XCTest
import NanoWMCore
import NanoWMFormats

/// Point clouds from a geometry network's outputs against the reference's video_to_pointcloud.py
/// run on the same outputs (Tests/Fixtures/geometry, made by make_pointcloud_fixtures.py with
/// its own unproject_frame, subsampling, save_ply and save_viewer_data): the same points in the
/// same order after NumPy's default_rng(42) subsampling, the same PLY bytes, the same viewer file.
final class PointCloudTests: XCTestCase {
    private static let fixtures = PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures/geometry")

    private func fixture(_ name: String) throws -> (prediction: GeometryPrediction, arrays: [String: Tensor]) {
        let arrays = try NumpyArchive.read(Self.fixtures.appendingPathComponent("pointcloud_\(name).npz").path)
        let prediction = try GeometryPrediction(depth: arrays["depth"]!, confidence: arrays["conf"]!, intrinsics: arrays["intrinsics"]!,
                                                extrinsics: arrays["extrinsics"]!, images: arrays["processed_images"]!)
        return (prediction, arrays)
    }

    /// Counts, order and colours exactly; coordinates within 1e-5 of their magnitude (at least
    /// 1): the camera coordinates are the same float64 arithmetic on the same float32 outputs,
    /// and the camera-to-world matrix, which the reference inverts in float32 with LAPACK, is
    /// inverted here in float64 and rounded, a few float32 ulps (~1e-7 relative) apart.
    func testSamePointsAsTheReference() throws {
        for name in ["small", "medium", "all"] {
            let (prediction, arrays) = try fixture(name)
            let cloud = try PointCloud(prediction, confidencePercentile: try arrays["conf_threshold"]!.item(Double.self),
                                       maxPoints: try arrays["max_points"]!.item(Int.self))
            XCTAssertEqual(cloud.perFrameCounts, try arrays["per_frame_counts"]!.toArray(Int64.self).map(Int.init), name)
            let expected = try arrays["points"]!.toArray(Float.self)
            XCTAssertEqual(cloud.points.count, expected.count, name)
            XCTAssertEqual(cloud.colors, try arrays["colors"]!.toArray(UInt8.self), "\(name): colours (and so the order)")
            var worst = 0.0
            for (ours, theirs) in zip(cloud.points, expected) {
                worst = max(worst, Double(abs(ours - theirs)) / max(1, Double(abs(theirs))))
            }
            XCTAssertLessThanOrEqual(worst, 1e-5, name)
            print("point cloud \(name): \(cloud.count) points, worst relative difference \(worst)")
        }
    }

    /// The PLY writer gives the reference's bytes for the same points; our cloud's file reads
    /// back to its points.
    func testPLYBytesEqualTheReferences() throws {
        for name in ["small", "medium"] {
            let (prediction, arrays) = try fixture(name)
            let reference = try Data(contentsOf: Self.fixtures.appendingPathComponent("pointcloud_\(name).ply"))
            let ours = try PLYFile.encode(points: try arrays["points"]!.toArray(Float.self), colors: try arrays["colors"]!.toArray(UInt8.self))
            XCTAssertEqual(ours, reference, name)
            let cloud = try PointCloud(prediction, maxPoints: try arrays["max_points"]!.item(Int.self))
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("cloud-\(UUID()).ply")
            defer { try? FileManager.default.removeItem(at: file) }
            try cloud.writePLY(to: file)
            let read = try PLYFile.read(file)
            XCTAssertEqual(read.points, cloud.points)
            XCTAssertEqual(read.colors, cloud.colors)
        }
        XCTAssertThrowsError(try PLYFile.encode(points: [], colors: []))
    }

    /// Our viewer file, loaded by NumPy, holds the reference's arrays with their types.
    func testViewerFileEqualsTheReferences() throws {
        let (prediction, _) = try fixture("small")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("viewer-\(UUID()).npz")
        defer { try? FileManager.default.removeItem(at: file) }
        try prediction.writeViewerData(confidencePercentile: 40, to: file)
        let python = try PyTorchBaseline.shared.run("""
        import numpy as np
        ours = np.load(\(pythonString(file.path)))
        theirs = np.load(\(pythonString(Self.fixtures.appendingPathComponent("pointcloud_small_viewer.npz").path)))
        assert sorted(ours.files) == sorted(theirs.files), (ours.files, theirs.files)
        for key in theirs.files:
            assert ours[key].dtype == theirs[key].dtype and ours[key].shape == theirs[key].shape, key
            assert np.array_equal(ours[key], theirs[key]), key
        O['n'] = torch.tensor(len(theirs.files))
        """)
        XCTAssertEqual(try python["n"]?.item(Int.self), 6)
    }

    /// The depth pictures' colour maps are OpenCV's (COLORMAP_TURBO, Google's table;
    /// COLORMAP_VIRIDIS, matplotlib's), as cv2 gives them; one picture per frame, the frame
    /// beside its depth and confidence.
    func testDepthPicturesUseTurboAndViridis() throws {
        let python = try PyTorchBaseline.shared.run("""
        import cv2, numpy as np
        ramp = np.arange(256, dtype=np.uint8).reshape(1, 256)
        O['turbo'] = torch.tensor(cv2.applyColorMap(ramp, cv2.COLORMAP_TURBO)[0, :, ::-1].copy())
        O['viridis'] = torch.tensor(cv2.applyColorMap(ramp, cv2.COLORMAP_VIRIDIS)[0, :, ::-1].copy())
        """)
        for (name, map) in [("turbo", Colormap.turbo), ("viridis", Colormap.viridis)] {
            XCTAssertEqual(try map.colors((0...255).map(UInt8.init)), try XCTUnwrap(python[name]).toArray(UInt8.self), name)
        }
        let (prediction, _) = try fixture("small")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("depth-vis-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try prediction.writeDepthPictures(to: folder)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["frame_0000.png", "frame_0001.png", "frame_0002.png"])
        let size = try PyTorchBaseline.shared.run("""
        import cv2
        O['shape'] = torch.tensor(cv2.imread(\(pythonString(folder.appendingPathComponent("frame_0000.png").path))).shape)
        """)
        XCTAssertEqual(try XCTUnwrap(size["shape"]).toArray(Int64.self), [20 + 8, 3 * 28 + 16, 3])
    }

    /// NumPy's percentile of float32 values, bit for bit, on random arrays with ties.
    func testPercentileEqualsNumPy() throws {
        let python = try PyTorchBaseline.shared.run("""
        import numpy as np
        rng = np.random.default_rng(3)
        values, results = [], []
        for n in [1, 2, 3, 10, 997, 5000]:
            a = (rng.random(n) * 10).astype(np.float32)
            a[: n // 3] = a[0]
            for q in [0.0, 12.3, 37.5, 40.0, 50.0, 99.9, 100.0]:
                values.append(torch.tensor(a)); results.append(np.percentile(a, q))
        O['results'] = torch.tensor(np.array(results, dtype=np.float32))
        for i, v in enumerate(values): O[f'v{i}'] = v
        """)
        let results = try python["results"]!.toArray(Float.self)
        var i = 0
        for _ in [1, 2, 3, 10, 997, 5000] {
            for q in [0.0, 12.3, 37.5, 40.0, 50.0, 99.9, 100.0] {
                XCTAssertEqual(PointCloud.percentile(try python["v\(i)"]!.toArray(Float.self), q), results[i], "case \(i)")
                i += 1
            }
        }
    }
}
