import Foundation
import SwiftTorch
import PythonCompatible
import NanoWMFormats

/// What a geometry network (Depth Anything 3) says of a video's frames: per frame a depth map,
/// its confidence, the camera's intrinsics and its world-to-camera extrinsics, and the frames
/// as the network saw them (resized), which colour the points.
public struct GeometryPrediction {
    public let depth: Tensor          // [N, H, W] float32
    public let confidence: Tensor     // [N, H, W] float32
    public let intrinsics: Tensor     // [N, 3, 3] float32
    public let extrinsics: Tensor     // [N, 3, 4] float32, world to camera
    public let images: Tensor         // [N, H, W, 3] uint8
    public var frameCount: Int { depth.shape[0] }

    public init(depth: Tensor, confidence: Tensor, intrinsics: Tensor, extrinsics: Tensor, images: Tensor) throws {
        let shape = depth.shape
        guard shape.count == 3, shape[0] > 0, shape[1] > 0, shape[2] > 0 else {
            throw TorchError.invalidArgument("depth must be [N, H, W], got \(depth.shape)")
        }
        let (n, h, w) = (shape[0], shape[1], shape[2])
        for (name, tensor, expected) in [("confidence", confidence, [n, h, w]), ("intrinsics", intrinsics, [n, 3, 3]),
                                         ("extrinsics", extrinsics, [n, 3, 4]), ("images", images, [n, h, w, 3])] {
            guard tensor.shape == expected else { throw TorchError.invalidArgument("\(name) must be \(expected) beside depth \(shape), got \(tensor.shape)") }
        }
        guard images.dtype == .uint8 else { throw TorchError.invalidArgument("images must be uint8, got \(images.dtype)") }
        self.depth = try depth.to(.float32).to(.cpu).contiguous()
        self.confidence = try confidence.to(.float32).to(.cpu).contiguous()
        self.intrinsics = try intrinsics.to(.float32).to(.cpu).contiguous()
        self.extrinsics = try extrinsics.to(.float32).to(.cpu).contiguous()
        self.images = try images.to(.cpu).contiguous()
        for (name, tensor) in [("depth", self.depth), ("confidence", self.confidence), ("intrinsics", self.intrinsics),
                               ("extrinsics", self.extrinsics)] where !(try tensor.isfinite().all().item(Bool.self)) {
            throw TorchError.invalidArgument("the geometry network's \(name) holds NaN or infinite values")
        }
    }

    /// Per frame, the frame as the network saw it, its depth (turbo, from the frame's least to
    /// its greatest depth) and its confidence (viridis) side by side, as the reference's
    /// `--save_depth_vis` pictures (without their titles and colour bars): `frame_0000.png`, …
    /// in `folder`.
    public func writeDepthPictures(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (height, width) = (depth.shape[1], depth.shape[2])
        for frame in 0..<frameCount {
            let image = try RGBImage(tensor: images.select(dim: 0, index: frame))
            let depthPicture = try Colormap.turbo.image(try depth.select(dim: 0, index: frame).toArray(Float.self), width: width, height: height)
            let confidencePicture = try Colormap.viridis.image(try confidence.select(dim: 0, index: frame).toArray(Float.self), width: width, height: height)
            let row = try RGBImage.grid([image, depthPicture, confidencePicture], columns: 3, padding: 4, background: (255, 255, 255))
            try PNGEncoder.write(row, to: folder.appendingPathComponent(String(format: "frame_%04d.png", frame)))
        }
    }

    /// The reference's viewer file (`<stem>_viewer.npz`): the prediction and the confidence
    /// percentile, from which a viewer unprojects each frame again.
    public func writeViewerData(confidencePercentile: Double, to url: URL) throws {
        try NumpyArchive.write([("depth", depth), ("conf", confidence), ("intrinsics", intrinsics), ("extrinsics", extrinsics),
                                ("processed_images", images), ("conf_threshold", try Tensor(scalar: confidencePercentile))], to: url.path)
    }
}

/// A coloured point cloud from a geometry prediction, made as the reference's
/// video_to_pointcloud.py makes it: each frame's pixels unprojected with its intrinsics and
/// moved to the world by the inverse of its extrinsics (in float64, from the float32 outputs);
/// kept where the confidence reaches the frame's given percentile (NumPy's linear percentile)
/// and the depth is positive; then, above `maxPoints`, subsampled with NumPy's
/// `default_rng(42).choice(…, replace=False)`.
public struct PointCloud {
    public static let defaultConfidencePercentile = 40.0
    public static let defaultMaxPoints = 1_000_000
    public static let subsampleSeed: UInt64 = 42

    /// x, y, z of each point in turn.
    public var points: [Float]
    /// r, g, b of each point in turn.
    public var colors: [UInt8]
    /// The points each frame gave before subsampling.
    public var perFrameCounts: [Int]
    public var count: Int { points.count / 3 }

    public init(_ prediction: GeometryPrediction, confidencePercentile: Double = defaultConfidencePercentile,
                maxPoints: Int = defaultMaxPoints) throws {
        guard confidencePercentile >= 0, confidencePercentile <= 100 else {
            throw TorchError.invalidArgument("the confidence percentile must lie in 0…100, got \(confidencePercentile)")
        }
        guard maxPoints > 0 else { throw TorchError.invalidArgument("the most points to keep must be positive, got \(maxPoints)") }
        var points: [Float] = [], colors: [UInt8] = [], counts: [Int] = []
        for frame in 0..<prediction.frameCount {
            let (p, c) = try Self.unproject(prediction, frame: frame, confidencePercentile: confidencePercentile)
            points += p
            colors += c
            counts.append(p.count / 3)
        }
        let total = points.count / 3
        if total > maxPoints {
            var generator = NumpyGenerator(seed: Self.subsampleSeed)
            let chosen = try generator.choiceWithoutReplacement(population: total, count: maxPoints)
            points = chosen.flatMap { points[(3 * $0)..<(3 * $0 + 3)] }
            colors = chosen.flatMap { colors[(3 * $0)..<(3 * $0 + 3)] }
        }
        (self.points, self.colors, self.perFrameCounts) = (points, colors, counts)
    }

    public func writePLY(to url: URL) throws {
        try PLYFile.write(points: points, colors: colors, to: url)
    }

    /// One frame's kept points and colours.
    public static func unproject(_ prediction: GeometryPrediction, frame: Int, confidencePercentile: Double) throws
        -> (points: [Float], colors: [UInt8]) {
        let (height, width) = (prediction.depth.shape[1], prediction.depth.shape[2])
        let depth = try prediction.depth.select(dim: 0, index: frame).toArray(Float.self)
        let confidence = try prediction.confidence.select(dim: 0, index: frame).toArray(Float.self)
        let image = try prediction.images.select(dim: 0, index: frame).toArray(UInt8.self)
        let k = try prediction.intrinsics.select(dim: 0, index: frame).toArray(Float.self)
        let (fx, fy, cx, cy) = (Double(k[0]), Double(k[4]), Double(k[2]), Double(k[5]))
        let cameraToWorld = try Self.inverse(try prediction.extrinsics.select(dim: 0, index: frame).toArray(Float.self))
        let threshold = Self.percentile(confidence, confidencePercentile)
        var points: [Float] = [], colors: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                guard confidence[i] >= threshold, depth[i] > 0 else { continue }
                let z = Double(depth[i])
                let camera = [(Double(x) - cx) * z / fx, (Double(y) - cy) * z / fy, z]
                for row in 0..<3 {
                    let r = cameraToWorld[row]
                    points.append(Float(Double(r[0]) * camera[0] + Double(r[1]) * camera[1] + Double(r[2]) * camera[2] + Double(r[3])))
                }
                colors += image[(3 * i)..<(3 * i + 3)]
            }
        }
        return (points, colors)
    }

    /// `np.percentile(values, q)` of float32 values with its default linear method: the sorted
    /// values' virtual index (n − 1)·q/100, and the float32 interpolation NumPy does between
    /// its neighbours (from the upper one when the fraction is at least one half).
    public static func percentile(_ values: [Float], _ q: Double) -> Float {
        let sorted = values.sorted()
        let index = Double(sorted.count - 1) * (q / 100)
        let lower = Int(index.rounded(.down))
        let fraction = index - Double(lower)
        let (a, b) = (sorted[lower], sorted[Swift.min(lower + 1, sorted.count - 1)])
        let difference = b - a
        return fraction >= 0.5 ? b - difference * Float(1 - fraction) : a + difference * Float(fraction)
    }

    /// The inverse of a 3×4 world-to-camera matrix made square, as float32 (the reference
    /// inverts in float32; this inverts in float64 and rounds).
    public static func inverse(_ extrinsics: [Float]) throws -> [[Float]] {
        var a = (0..<4).map { row in (0..<4).map { col in row < 3 ? Double(extrinsics[4 * row + col]) : (col == 3 ? 1.0 : 0.0) } }
        var inverse = (0..<4).map { row in (0..<4).map { col in row == col ? 1.0 : 0.0 } }
        for col in 0..<4 {
            let pivot = (col..<4).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            guard abs(a[pivot][col]) > 0 else { throw TorchError.invalidArgument("a camera's extrinsics are singular") }
            a.swapAt(col, pivot)
            inverse.swapAt(col, pivot)
            let scale = a[col][col]
            for j in 0..<4 { a[col][j] /= scale; inverse[col][j] /= scale }
            for row in 0..<4 where row != col {
                let factor = a[row][col]
                guard factor != 0 else { continue }
                for j in 0..<4 { a[row][j] -= factor * a[col][j]; inverse[row][j] -= factor * inverse[col][j] }
            }
        }
        return inverse.map { $0.map(Float.init) }
    }
}
