import Foundation
import PythonCompatible
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// The main job on the embedded default: generate the built-in wall environment's data, train a
/// small NanoWM on it, evaluate on held-out clips against the copy-last-frame baseline (and
/// against zero/shuffled actions), roll out far beyond the training window, and write every
/// artifact into one run folder.
public enum Quickstart {
    public struct Artifacts: Codable {
        public var runDirectory: String
        public var checkpoint: String
        public var metrics: String
        public var tensorboard: String
        public var video: String
        public var gif: String
        public var plot: String
        public var samples: String
        /// The rollout from the user's clip (`--input`), when one was given.
        public var inputRollout: String?
        /// The first planning episode: executed frames beside the goal.
        public var planningVideo: String?
    }

    public struct Metrics: Codable {
        public var evaluation: WorldModelEvaluation.Report
        public var rollout: RolloutReport
        public var trainingSteps: Int
        public var finalTrainingLoss: Double?
        public var seconds: Double
        public var planning: PlanningReport?
        /// Wall-clock seconds of each phase, in order.
        public var phaseSeconds: [String: Double]?
    }

    /// Goals reached in the built-in wall by the trained model with CEM, by random actions and
    /// by CEM with the true simulator as the model.
    public struct PlanningReport: Codable {
        public var goals: Int
        /// Model actions between start and goal along the recorded trajectory.
        public var goalSteps: Int
        public var worldModelSuccesses: Int
        public var randomActionSuccesses: Int
        public var simulatorSuccesses: Int
        public var worldModelSeconds: Double
        public var results: String
    }

    public struct RolloutReport: Codable {
        public var frames: Int
        public var history: Int
        public var trainingWindow: Int
        /// Per generated frame, averaged over the rollout clips.
        public var psnrPerFrame: [Double]
        public var copyLastPSNRPerFrame: [Double]
    }

    /// The overrides that make the default configuration the quickstart's.
    public static let baseOverrides = ["experiment=quickstart", "planning=quickstart", "wandb.enabled=false"]

    /// A clip of the user's to roll the trained model out from (`nanowm quickstart --input`):
    /// a video or safetensors `frames` in [−1, 1] (or latent `context`), with `action` there or
    /// in `actions`.
    public struct UserClip {
        public var input: String
        public var actions: String?
        public init(input: String, actions: String? = nil) { (self.input, self.actions) = (input, actions) }
    }

    public static func run(overrides: [String], runDirectory: URL?, configDir: String? = nil, clip: UserClip? = nil,
                           log: @escaping (String) -> Void = { print($0) }) throws -> (Artifacts, Metrics) {
        let started = Date()
        // Checked before training, so a wrong path costs seconds, not the whole run.
        for path in [clip?.input, clip?.actions].compactMap({ $0 }) where !FileManager.default.fileExists(atPath: path) {
            throw DataError("\(path): no such file (--input/--actions of nanowm quickstart)")
        }
        var runner = ExperimentRunner(composition: try ConfigComposer.locate(configDir: configDir).composition(overrides: baseOverrides + overrides))
        runner.runDirectory = runDirectory
        runner.log = log
        var lastLoss: Double?
        runner.trainingCallbacks.append(StepCallback(afterStep: { _, metrics in lastLoss = metrics.loss }))
        var phases: [(String, Double)] = []
        var phaseStart = Date()
        func phaseDone(_ name: String) {
            phases.append((name, Date().timeIntervalSince(phaseStart)))
            phaseStart = Date()
        }
        guard let job = try runner.run(.trainingOnly).training else {
            throw ConfigError(.invalidValue, "experiment.tasks: the quickstart trains; keep training among its tasks")
        }
        let logger = job.trainer.logger
        phaseDone("training")
        let model = job.trainer.model
        model.eval()

        let settings = job.configuration.settings
        let (process, options) = try settings.respacedSamplingSetup().make(device: job.trainer.device)
        let codec = job.codec
        let evaluation = WorldModelEvaluation(model: model, codec: codec, process: process, options: options,
                                              contextFrames: settings.contextFrames, seed: 0)

        // Held-out clips: evenly spaced through the whole validation split (training validates
        // on its first validation_size clips, which all start in one episode).
        let split = try (job.validation as? TrajectoryDataset)?.unselected() ?? job.validation
        let heldOutCount = Swift.min(settings.validationSize ?? split.count, split.count)
        let heldOut = try ClipBatcher(dataset: split, batchSize: heldOutCount, seed: 0)
        let (video, actions) = try heldOut.stack(heldOut.evenlySpacedIndices(heldOutCount))
        log("evaluating on \(video.shape[0]) held-out clips (\(settings.contextFrames) context + \(video.shape[1] - settings.contextFrames) generated frames, seed 0) …")
        let (report, prediction) = try evaluation.evaluate(video: video, actions: actions)
        printReport(report, log: log)
        phaseDone("evaluation")

        let rollout = try longRollout(job: job, model: model, process: process, options: options, codec: codec, log: log)
        var artifacts = try writeArtifacts(job: job, video: video, prediction: prediction, rollout: rollout, logger: logger)
        if let clip {
            artifacts.inputRollout = try rolloutFromUserClip(clip, job: job, frames: rollout.report.frames, log: log)
        }
        phaseDone("rollout")
        let planning = try QuickstartPlanning.run(job: job, model: model, log: log)
        artifacts.planningVideo = planning.video
        phaseDone("planning")
        log("time per phase: " + phases.map { "\($0.0) " + String(format: "%.0f s", $0.1) }.joined(separator: ", "))
        var metrics = Metrics(evaluation: report, rollout: rollout.report, trainingSteps: job.trainer.step,
                              finalTrainingLoss: lastLoss, seconds: Date().timeIntervalSince(started))
        metrics.planning = planning.report
        metrics.phaseSeconds = Dictionary(uniqueKeysWithValues: phases)
        let text = try PythonJSON.dumps(encoding: metrics) + "\n"
        try AtomicFile.write(to: artifacts.metrics) { Data(text.utf8) }
        try logger?.scalar("eval/psnr", report.model.psnr, step: job.trainer.step)
        try logger?.scalar("eval/ssim", report.model.ssim, step: job.trainer.step)
        try logger?.scalar("eval/psnr_copy_last", report.copyLastFrame.psnr, step: job.trainer.step)
        try logger?.close()
        return (artifacts, metrics)
    }

    private static func printReport(_ r: WorldModelEvaluation.Report, log: (String) -> Void) {
        func row(_ name: String, _ s: WorldModelEvaluation.Scores) -> String {
            name.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "PSNR %6.2f dB   SSIM %.4f", s.psnr, s.ssim)
        }
        log(row("  world model", r.model))
        log(row("  copy last frame", r.copyLastFrame))
        if let z = r.zeroActions { log(row("  zero actions", z)) }
        if let s = r.shuffledActions { log(row("  shuffled actions", s)) }
        log(String(format: "  margin over copy-last-frame: %+.2f dB PSNR", r.psnrGainOverCopyLast))
        if let z = r.zeroActions, let s = r.shuffledActions {
            log(String(format: "  true actions beat zero actions by %+.2f dB and shuffled actions by %+.2f dB", r.model.psnr - z.psnr, r.model.psnr - s.psnr))
        }
    }

    struct RolloutResult {
        var report: RolloutReport
        var truth: Tensor       // [B, L, 3, H, W]
        var prediction: Tensor  // [B, L, 3, H, W]
    }

    /// 4× the training window, one new frame at a time from a sliding context.
    static func longRollout(job: TrainingJob, model: NanoWMModel, process: DiffusionProcess, options: SamplingOptions,
                            codec: LatentCodec, log: (String) -> Void) throws -> RolloutResult {
        let window = model.config.numFrames, history = window - 1
        let available = job.configuration.dataset.builtin?.trajectoryLength ?? window * 4
        let length = Swift.min(window * 4, available)
        guard let store = (job.validation as? TrajectoryDataset)?.store, let episodes = (job.validation as? TrajectoryDataset)?.episodes else {
            throw DataError("the long rollout needs the built-in trajectory dataset")
        }
        let clips = try TrajectoryDataset(store: store, episodes: Array(episodes.prefix(4)), clipLength: length)
        let starts = clips.count / clips.episodes.count
        let (video, actions) = try ClipBatcher(dataset: clips, batchSize: 1, seed: 0).stack((0..<clips.episodes.count).map { $0 * starts })
        let clipCodec = ClipCodec(codec)
        let context = try clipCodec.latents(ofDatasetClips: video).narrow(dim: 1, start: 0, length: history)
        let rollout = try SlidingWindowRollout(process: process, options: options, window: window, history: history)
        try manualSeed(0)
        let bar = ProgressBar("rollout", total: length - history)
        let generated = try withNoGrad {
            try rollout.generate({ x, t, a in try model(x, t: t, action: a) }, context: context,
                                 actions: model.config.useAction ? actions : nil, length: length,
                                 frameByFrame: { try model.frameByFrame(actions: $0) },
                                 progress: { done, _ in bar.update(done) })
        }
        let prediction = try ClipCodec.unit(try clipCodec.decode(generated))
        var ours: [Double] = [], baseline: [Double] = []
        let last = try video.select(dim: 1, index: history - 1)
        for frame in history..<length {
            let truth = try video.select(dim: 1, index: frame)
            ours.append(try ImageMetrics.psnr(try prediction.select(dim: 1, index: frame), truth).mean().item(Double.self))
            baseline.append(try ImageMetrics.psnr(last, truth).mean().item(Double.self))
        }
        log(String(format: "rollout: %d frames (%d× the %d-frame training window) from %d context frames; PSNR first %.2f → last %.2f dB (copy-last %.2f → %.2f)",
                   length, length / window, window, history, ours.first ?? 0, ours.last ?? 0, baseline.first ?? 0, baseline.last ?? 0))
        return RolloutResult(report: RolloutReport(frames: length, history: history, trainingWindow: window,
                                                   psnrPerFrame: ours, copyLastPSNRPerFrame: baseline),
                             truth: video, prediction: prediction)
    }

    /// The trained model rolled out from the user's clip, as `nanowm rollout` in pixels would,
    /// decoded to `input_rollout.mp4` in the run folder.
    static func rolloutFromUserClip(_ clip: UserClip, job: TrainingJob, frames: Int, log: (String) -> Void) throws -> String {
        var generation = ClipGeneration(model: job.trainer.model, device: job.trainer.device,
                                        setup: job.configuration.settings.respacedSamplingSetup(), seed: 0)
        var pixels = PixelSpace(codec: job.codec)
        pixels.actionFile = clip.actions
        generation.pixels = pixels
        let output = job.run.url.appendingPathComponent("input_rollout.mp4").path
        log("rolling out \(frames) frames from \(clip.input) …")
        try generation.run(.rollout(frames: frames, history: nil, window: nil), input: clip.input, output: output)
        return output
    }

    static func writeArtifacts(job: TrainingJob, video: Tensor, prediction: Tensor, rollout: RolloutResult,
                               logger: MetricsLogger?) throws -> Artifacts {
        let run = job.run
        // Ground truth beside prediction, enlarged so the agent is easy to follow.
        let truthFrames = try RGBImage.frames(from: rollout.truth.select(dim: 0, index: 0))
        let predictedFrames = try RGBImage.frames(from: rollout.prediction.select(dim: 0, index: 0))
        let sideBySide = try zip(truthFrames, predictedFrames).map { try RGBImage.grid([$0.scaled(by: 3), $1.scaled(by: 3)], columns: 2, padding: 4) }
        let videoURL = run.file("rollout.mp4"), gifURL = run.file("rollout.gif")
        try MP4Writer.write(sideBySide, fps: 4, to: videoURL)
        try GIFEncoder.write(frames: sideBySide, fps: 4, to: gifURL)
        try logger?.video("rollout/truth_vs_prediction", frames: sideBySide, fps: 4, step: job.trainer.step)

        let plot = LinePlot(title: "Rollout PSNR per frame", xLabel: "frame", yLabel: "PSNR (dB)", series: [
            .init(name: "world model", values: rollout.report.psnrPerFrame, color: (200, 40, 40)),
            .init(name: "copy last frame", values: rollout.report.copyLastPSNRPerFrame, color: (60, 90, 200)),
        ])
        var plotWithStart = plot
        plotWithStart.xStart = rollout.report.history
        let plotURL = run.file("rollout_psnr.png")
        let plotImage = try plotWithStart.render()
        try PNGEncoder.write(plotImage, to: plotURL)
        try logger?.image("rollout/psnr_per_frame", plotImage, step: job.trainer.step)

        // Held-out clips: one row per clip, truth on top of prediction.
        let rows = try (0..<Swift.min(4, video.shape[0])).flatMap { clip -> [RGBImage] in
            try RGBImage.frames(from: video.select(dim: 0, index: clip)) + RGBImage.frames(from: prediction.select(dim: 0, index: clip))
        }
        let samplesURL = run.file("samples.png")
        let grid = try RGBImage.grid(try rows.map { try $0.scaled(by: 2) }, columns: video.shape[1])
        try PNGEncoder.write(grid, to: samplesURL)
        try logger?.image("eval/truth_over_prediction", grid, step: job.trainer.step)

        return Artifacts(runDirectory: run.url.path, checkpoint: run.latestCheckpoint?.path ?? "",
                         metrics: run.file("metrics.json").path, tensorboard: run.tensorboard.path,
                         video: videoURL.path, gif: gifURL.path, plot: plotURL.path, samples: samplesURL.path)
    }
}
