import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch

/// `nanowm metrics`: scores predictions against ground truth as upstream's evaluation does.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Score predicted clips against ground truth (MSE, PSNR, SSIM, LPIPS, FID, FVD) into a metrics file.",
        discussion: """
        Inputs (--pred, with --gt for files):
          safetensors files with key `frames`, [N, T, 3, H, W] float in [-1, 1] (both files);
          a folder of sample_<id>_gen.mp4 / sample_<id>_gt.mp4 pairs (upstream's evaluate_metrics.py);
          a folder holding upstream's eval_videos/**/raw_data.npz (pred and gt, [3, T, H, W] in [0, 1]).

        Metrics use frames K…T−1 only (K = --context), as upstream's evaluation: mse (in [-1, 1] \
        space), psnr and ssim (piqa), and with their networks lpips (--lpips, VGG v0.1), fid \
        (--inception; pooled over every predicted frame) and fvd (--i3d, upstream's \
        i3d_torchscript.pt; only with at least 10 predicted frames per clip). `fvd` feeds the \
        detector [0, 1] as upstream does; `fvd_standard` the detector's own [-1, 1] convention. \
        Network files: scripts/export_metric_nets.py and checkpoints/README.md.

        The metrics file holds {"metrics", "settings", "counts", "notes", "per_frame"}; \
        --per-clip writes upstream's CSV columns (sample_id, frame_idx, is_context, mse, psnr, \
        ssim, lpips), one row per clip and frame.

        Examples:
          nanowm metrics --pred pred.safetensors --gt gt.safetensors --output metrics.json \\
              --lpips checkpoints/lpips_vgg.pt --inception checkpoints/fid_inception.pt
          nanowm metrics --pred results/eval/wall/eval_videos --output wall.json --context 1
        """)

    @Option(help: "Predictions: a safetensors file, or a folder of videos / eval_videos.") var pred: String
    @Option(help: "Ground truth safetensors file (not needed for folders).") var gt: String?
    @Option(help: "The metrics JSON to write.") var output: String
    @Option(help: "Context frames K at the start of each clip, excluded from the metrics.") var context = 1
    @Option(help: "LPIPS network (scripts/export_metric_nets.py lpips).") var lpips: String?
    @Option(help: "FID Inception network (scripts/export_metric_nets.py inception).") var inception: String?
    @Option(help: "FVD I3D detector (upstream's i3d_torchscript.pt).") var i3d: String?
    @Option(name: .customLong("per-clip"), help: "Also write one CSV row per clip and frame here.") var perClip: String?
    @Option(help: ArgumentHelp("Where to run the networks.", valueName: "cpu|cuda|cuda:N")) var device = "cpu"

    func run() throws {
        guard context >= 0 else { throw ValidationError("--context must be ≥ 0 (got \(context))") }
        var job = MetricsJob(prediction: pred, truth: gt, output: output)
        job.contextFrames = context
        (job.lpips, job.inception, job.i3d, job.perClipCSV) = (lpips, inception, i3d, perClip)
        job.device = try Device(parsing: device)
        try job.device.ensureAvailable()
        let summary = try job.run()
        for (name, value) in summary.metrics { print("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: "%.6g", value)) }
        for note in summary.notes { print("  (\(note))") }
        print("wrote \(output)" + (perClip.map { " and \($0)" } ?? ""))
    }
}
