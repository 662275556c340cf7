import Foundation
import SwiftTorch
import NanoWMFormats
import NanoWMCore

/// `nanowm pointcloud`: a video to a coloured 3D point cloud as the reference's
/// video_to_pointcloud.py makes one: every `frameStep`-th frame up to `maxFrames`, optionally
/// resized to the native size a rollout was stretched from, Depth Anything 3 (an export of
/// scripts/export_geometry.py) on all of them at once, each frame unprojected into the world,
/// filtered by confidence and depth, subsampled, then written as a binary PLY and the
/// reference's `<stem>_viewer.npz`.
public struct PointCloudJob {
    public var video: URL
    public var geometry: String
    public var output: URL
    public var maxFrames = 30
    public var frameStep = 1
    /// Height and width to resize frames to first (`--native-res H W`).
    public var nativeSize: (height: Int, width: Int)?
    public var confidencePercentile = PointCloud.defaultConfidencePercentile
    public var maxPoints = PointCloud.defaultMaxPoints
    /// Depth Anything 3's processing size (nil: the one the export was made for, else 504).
    public var processRes: Int?
    public var device: Device = .cpu
    /// Also write each frame's depth and confidence pictures in `<stem>_depth_vis/`.
    public var saveDepthPictures = false

    public init(video: URL, geometry: String, output: URL) {
        (self.video, self.geometry, self.output) = (video, geometry, output)
    }

    /// The viewer file beside the cloud, as the reference names it.
    public var viewerFile: URL {
        output.deletingLastPathComponent().appendingPathComponent(output.deletingPathExtension().lastPathComponent + "_viewer.npz")
    }

    /// The frames the reference takes: 0, step, 2·step, … while the video lasts, at most `maxFrames`.
    public func frames() throws -> [RGBImage] {
        guard maxFrames > 0, frameStep > 0 else { throw TorchError.invalidArgument("--max-frames and --frame-step must be positive") }
        let video = try VideoFrameReader.frames(self.video, every: frameStep, atMost: maxFrames)
        guard video.shape[0] >= 2 else {
            throw TorchError.invalidArgument("\(self.video.path): \(video.shape[0]) frame at step \(frameStep); a point cloud needs at least 2 (3 for Depth Anything 3's multi-view branch): lower --frame-step or use a longer video")
        }
        var images = try (0..<video.shape[0]).map { try RGBImage(tensor: video.select(dim: 0, index: $0)) }
        if let nativeSize, nativeSize.height != images[0].height || nativeSize.width != images[0].width {
            guard nativeSize.height > 0, nativeSize.width > 0 else { throw TorchError.invalidArgument("--native-res needs a positive height and width") }
            images = try images.map { try $0.resized(width: nativeSize.width, height: nativeSize.height) }
        }
        return images
    }

    @discardableResult
    public func run(log: (String) -> Void = { print($0) }) throws -> PointCloud {
        guard ["ply"].contains(output.pathExtension.lowercased()) else {
            throw TorchError.invalidArgument("--output \(output.path): the cloud is written as a .ply file")
        }
        let network = try GeometryNetwork(contentsOf: geometry, device: device)
        let frames = try frames()
        log("\(frames.count) frames of \(frames[0].width)×\(frames[0].height) from \(video.lastPathComponent); Depth Anything 3 (\(network.description.model)) at \(network.description.width)×\(network.description.height) …")
        let prediction = try network.predict(frames, processRes: processRes ?? network.description.process_res ?? GeometryNetwork.defaultProcessRes)
        let cloud = try PointCloud(prediction, confidencePercentile: confidencePercentile, maxPoints: maxPoints)
        let before = cloud.perFrameCounts.reduce(0, +)
        log("\(before) points above the \(confidencePercentile)th confidence percentile with positive depth"
            + (before > cloud.count ? ", \(cloud.count) kept (seed \(PointCloud.subsampleSeed))" : ""))
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        try cloud.writePLY(to: output)
        try prediction.writeViewerData(confidencePercentile: confidencePercentile, to: viewerFile)
        log("wrote \(output.path) and \(viewerFile.path)")
        if saveDepthPictures {
            let folder = output.deletingLastPathComponent().appendingPathComponent(output.deletingPathExtension().lastPathComponent + "_depth_vis")
            try prediction.writeDepthPictures(to: folder)
            log("wrote \(prediction.frameCount) depth pictures in \(folder.path)")
        }
        return cloud
    }
}
