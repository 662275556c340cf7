import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch

/// `nanowm pointcloud`: a video (a rollout, a recording) to a 3D point cloud.
struct PointCloudCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pointcloud",
        abstract: "Turn a video into a coloured 3D point cloud with Depth Anything 3 (the reference's video_to_pointcloud.py).",
        discussion: """
        Depth Anything 3 estimates each frame's depth, confidence and camera from all the frames \
        at once; every pixel is unprojected into the world, points below the confidence \
        percentile or with no positive depth are dropped, and above --max-points a random subset \
        is kept (NumPy's default_rng(42), as the reference). Writes a binary PLY (float x, y, z; \
        uchar r, g, b) and <stem>_viewer.npz (depth, conf, intrinsics, extrinsics, \
        processed_images, conf_threshold) beside it.

        The network is a TorchScript file that scripts/export_geometry.py makes once from a \
        Depth Anything 3 release (nothing is downloaded here), traced for the frame size that \
        --process-res gives your video:
          scripts/export_geometry.py --weights DA3-LARGE-1.1/model.safetensors \\
              --video-size 256 256 --process-res 504 --output checkpoints/geometry.pt

        Examples:
          nanowm pointcloud rollout.mp4 --geometry checkpoints/geometry.pt --output rollout.ply
          nanowm pointcloud csgo.mp4 --geometry g.pt --output csgo.ply --native-res 150 280 --view
        """)

    @Argument(help: "The video (MP4 or anything OpenCV decodes).") var video: String
    @Option(help: "Depth Anything 3 exported by scripts/export_geometry.py.") var geometry = "checkpoints/geometry.pt"
    @Option(help: "The point cloud to write (.ply).") var output: String
    @Option(name: .customLong("max-frames"), help: "At most this many frames.") var maxFrames = 30
    @Option(name: .customLong("frame-step"), help: "Every n-th frame.") var frameStep = 1
    @Option(name: .customLong("native-res"), parsing: .upToNextOption,
            help: ArgumentHelp("Resize frames to H W first (OpenCV bilinear), undoing a rollout's stretch to a square (CSGO: 150 280).", valueName: "H W"))
    var nativeRes: [Int] = []
    @Option(name: .customLong("conf-threshold"), help: "Confidence percentile (0-100) below which points are dropped.") var confThreshold = 40.0
    @Option(name: .customLong("max-points"), help: "At most this many points (a seeded random subset).") var maxPoints = 1_000_000
    @Option(name: .customLong("process-res"), help: "Depth Anything 3's processing size of the longest side (default: the one the export was made for, else 504).") var processRes: Int?
    @Option(help: ArgumentHelp("Where to run the network.", valueName: "cpu|cuda|cuda:N")) var device = "cpu"
    @Flag(name: .customLong("save-depth-vis"), help: "Also write each frame beside its depth and confidence pictures in <stem>_depth_vis/.") var saveDepthVis = false
    @Flag(help: "Then show the cloud in the browser (nanowm view on the viewer file).") var view = false
    @Option(help: "The viewer's port (with --view; 0: any free one).") var port = 8766

    func run() throws {
        guard nativeRes.isEmpty || nativeRes.count == 2 else { throw ValidationError("--native-res takes two numbers, H and W") }
        guard (0...100).contains(confThreshold) else { throw ValidationError("--conf-threshold must lie in 0…100 (got \(confThreshold))") }
        guard maxPoints > 0, maxFrames > 0, frameStep > 0, (processRes ?? 1) > 0 else {
            throw ValidationError("--max-points, --max-frames, --frame-step and --process-res must be positive")
        }
        var job = PointCloudJob(video: URL(fileURLWithPath: video), geometry: geometry, output: URL(fileURLWithPath: output))
        (job.maxFrames, job.frameStep, job.confidencePercentile, job.maxPoints, job.processRes) = (maxFrames, frameStep, confThreshold, maxPoints, processRes)
        if nativeRes.count == 2 { job.nativeSize = (nativeRes[0], nativeRes[1]) }
        job.saveDepthPictures = saveDepthVis
        job.device = try Device(parsing: device)
        try job.device.ensureAvailable()
        try job.run()
        if view { try ViewCommand.serve(job.viewerFile, host: "127.0.0.1", port: port) }
    }
}
