import Foundation
import SwiftTorch
import NanoWMFormats

/// What the point-cloud viewer shows: points in frames (one frame for a PLY file; for the
/// reference's `<stem>_viewer.npz` each frame's own points, unprojected again with the stored
/// confidence percentile and no subsampling, as its viewer does) and, for a viewer file, each
/// frame's camera.
public struct CloudScene {
    public struct Camera: Codable {
        /// Camera to world, row by row (4×4).
        public var cameraToWorld: [Float]
        public var fx: Float, fy: Float, cx: Float, cy: Float
        public var width: Int, height: Int
    }

    /// x, y, z of each point, frame after frame.
    public var points: [Float]
    public var colors: [UInt8]
    /// Points of each frame, in order.
    public var frameCounts: [Int]
    public var cameras: [Camera]
    public var source: String

    /// A `.ply` cloud, or a `_viewer.npz` prediction.
    public init(contentsOf url: URL) throws {
        source = url.lastPathComponent
        switch url.pathExtension.lowercased() {
        case "ply":
            (points, colors) = try PLYFile.read(url)
            frameCounts = [points.count / 3]
            cameras = []
        case "npz":
            let arrays = try NumpyArchive.read(url.path, inflate: Deflate.inflate)
            let keys = ["depth", "conf", "intrinsics", "extrinsics", "processed_images", "conf_threshold"]
            for key in keys where arrays[key] == nil {
                throw TorchError.invalidArgument("\(url.path): no '\(key)' array; give a .ply cloud or the _viewer.npz that nanowm pointcloud writes")
            }
            let prediction = try GeometryPrediction(depth: arrays["depth"]!, confidence: arrays["conf"]!, intrinsics: arrays["intrinsics"]!,
                                                    extrinsics: arrays["extrinsics"]!, images: arrays["processed_images"]!.to(.uint8))
            let percentile = try arrays["conf_threshold"]!.to(.float64).item(Double.self)
            (points, colors, frameCounts, cameras) = ([], [], [], [])
            let (height, width) = (prediction.depth.shape[1], prediction.depth.shape[2])
            for frame in 0..<prediction.frameCount {
                let (p, c) = try PointCloud.unproject(prediction, frame: frame, confidencePercentile: percentile)
                points += p
                colors += c
                frameCounts.append(p.count / 3)
                let k = try prediction.intrinsics.select(dim: 0, index: frame).toArray(Float.self)
                let inverse = try PointCloud.inverse(try prediction.extrinsics.select(dim: 0, index: frame).toArray(Float.self))
                cameras.append(Camera(cameraToWorld: inverse.flatMap { $0 }, fx: k[0], fy: k[4], cx: k[2], cy: k[5], width: width, height: height))
            }
        default:
            throw TorchError.invalidArgument("\(url.path): the viewer shows a .ply cloud or a _viewer.npz file")
        }
        guard !points.isEmpty else { throw TorchError.invalidArgument("\(url.path): no points to show") }
    }

    /// The points as the page reads them: float32 x, y, z of every point, then r, g, b bytes.
    public var binary: Data {
        var data = Data(capacity: points.count * 5)
        points.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        data.append(contentsOf: colors)
        return data
    }
}
