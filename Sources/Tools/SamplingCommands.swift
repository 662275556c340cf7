import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// Sampling settings. The prediction target, noise schedule and zero-terminal-SNR come from
/// the checkpoint's training config (a flag that contradicts it is refused unless
/// --override-config); steps, scheduling mode and history stabilisation default to the
/// command's rule or the run's. Numbers are parsed unconditionally, so that `--seed -1`
/// reaches the range check instead of being taken for a flag.
struct DiffusionOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Denoising steps per frame.", valueName: "S")) var steps: Int?
    @Option(help: ArgumentHelp("Scheduling of noise levels.", valueName: "sequential|pyramid|full_sequence")) var mode: String?
    @Option(parsing: .unconditional, help: "Random seed, ≥ 0 (CPU: the same draws as upstream under torch.manual_seed).")
    var seed = 0
    @Option(help: ArgumentHelp("What the model predicts (default: the run's experiment.diffusion.pred_name, else v).", valueName: "eps|x|v|flow"))
    var pred: String?
    @Option(help: ArgumentHelp("Noise schedule (default: the run's, else squaredcos_cap_v2).", valueName: "linear|squaredcos_cap_v2"))
    var schedule: String?
    @Option(help: ArgumentHelp("Zero terminal SNR rescaling (default: the run's, else true).", valueName: "true|false")) var ztsnr: Bool?
    @Option(name: .customLong("history-stabilization"), parsing: .unconditional,
            help: "Noise level given to context frames, in [0, 1) (0 = off; default: the run's, else 0.02).")
    var historyStabilization: Double?
    @Option(parsing: .unconditional, help: "DDIM η ≥ 0 (0 = deterministic).") var eta = 0.0
    @Flag(name: .customLong("no-cache"), help: ArgumentHelp(
        "Run the whole window at every denoising step, as upstream does, instead of computing a causal model's context frames once per generated frame (sequential scheduling only; same result up to float32 rounding, which this makes bit-identical to upstream)."))
    var noCache = false

    var choices: TrainedCheckpoint.SamplingChoices {
        get throws {
            var choices = TrainedCheckpoint.SamplingChoices()
            if let schedule {
                guard let noise = NoiseSchedule(rawValue: schedule) else {
                    throw ValidationError("unknown --schedule '\(schedule)'; use linear or squaredcos_cap_v2")
                }
                choices.schedule = noise
            }
            choices.target = try pred.map { try PredictionTarget(name: $0) }
            choices.zeroTerminalSNR = ztsnr
            choices.mode = try mode.map { try SchedulingMode(name: $0) }
            choices.steps = steps
            choices.eta = eta
            choices.historyStabilization = historyStabilization
            choices.cachedCausal = !noCache
            return choices
        }
    }
}

/// Pixels in and out through a latent codec (`--latent-codec`): a video or `frames` input,
/// a video output.
struct PixelOptions: ParsableArguments {
    @Option(name: .customLong("latent-codec"),
            help: ArgumentHelp("Encode pixel input and decode the output with this codec.", valueName: "sd_vae|pixel|webdino|vjepa2_1"))
    var kind: String?
    @Option(name: .customLong("codec-file"), help: "The codec's exported network (default: checkpoints/KIND.pt).") var file: String?
    @Option(help: "Safetensors file with 'action' [B, F, A], for a video input.") var actions: String?
    @Option(help: "Frames per second of a video output.") var fps = 8.0

    /// The pixel space, on `device`: the chosen codec, else the run's (from its training
    /// config) when the input or output is in pixels, else none.
    func space(_ trained: TrainedCheckpoint, input: String, output: String, device: Device) throws -> PixelSpace? {
        var space: PixelSpace
        if let kind {
            space = try PixelSpace(kind: kind, file: file, checkpoint: trained.path, device: device)
        } else if let run = trained.configuration, PixelSpace.isNeeded(input: input, output: output) {
            space = try run.pixelSpace(checkpoint: trained.path, device: device)
        } else {
            if actions != nil { throw ValidationError("--actions goes with a video input, which needs --latent-codec") }
            return nil
        }
        space.actionFile = actions
        space.fps = fps
        return space
    }
}

/// `nanowm sample`: generate the frames after a context with diffusion forcing.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate future latent frames after a context clip.",
        discussion: """
        Input: `context` [B, K, C, H, W] (K ≥ 1 context frames) and, for action models, `action` [B, F, A]; \
        floating-point tensors are converted to float32. Output: `samples` [B, F, C, H, W], context included as \
        upstream returns it.

        The model and how to sample come from the checkpoint's training config.yaml (the nearest at or above its \
        folder, or --config FILE): prediction target, noise schedule, zero terminal SNR, history stabilisation, and \
        the steps and scheduling mode upstream's evaluation uses (experiment.evaluation.*, else model.*). Without a \
        config, upstream's defaults are assumed and named (250 sequential DDIM steps, v-prediction, cosine schedule \
        with zero terminal SNR, history stabilisation 0.02).

        In pixels, with --latent-codec (default: the run's codec when its config is found): the input may be a video (MP4; actions from --actions FILE) or `frames` \
        [B, K, 3, H, W] in [−1, 1], encoded by the codec (seeded by --seed); an .mp4 or .gif output shows the \
        decoded samples, the batch side by side.
        """)

    @OptionGroup var model: CheckpointOptions
    @OptionGroup var diffusion: DiffusionOptions
    @Option(help: "Clip file with context (and action).") var input: String
    @Option(help: "Output safetensors with samples.") var output: String
    @Option(parsing: .unconditional, help: "Frames in the result, context included (default: the model's window).") var frames: Int?
    @OptionGroup var pixels: PixelOptions

    func run() throws {
        let choices = try diffusion.choices
        let (trained, network, device) = try model.load()
        let setup = try trained.samplingSetup(choices, defaults: .init(), overriding: model.overrideConfig)
        var generation = ClipGeneration(model: network, device: device, setup: setup, seed: diffusion.seed)
        generation.pixels = try pixels.space(trained, input: input, output: output, device: device)
        let shape = try generation.run(.window(frames: frames), input: input, output: output)
        print("wrote samples \(shape) to \(output)")
        try model.noteAssumptions(trained, sampling: choices)
    }
}

/// `nanowm rollout`: long-horizon generation with a sliding context window.
struct RolloutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Generate far beyond the training window, one frame at a time with a sliding context.",
        discussion: """
        Input as for `sample`: `context` [B, K, C, H, W] (K ≥ --history) and, for action models, `action` \
        [B, N, A] with one action per frame (the last is repeated past the end). The model sees --window frames \
        at a time (its training window): the last --history generated frames and the new ones. Output: \
        `samples` [B, --frames, C, H, W]. Defaults follow upstream's rollout script (src/sample/rollout.py): 50 \
        frames, 4 history frames (at most window − 1), 50 sequential DDIM steps on the respaced process, η 0, and \
        the run's prediction target, schedule and history stabilisation from its training config.yaml. With a \
        codec (--latent-codec, or the run's), pixels in and video out, as for `sample`.

        The memory the result needs is checked before any work; a run that cannot fit is refused.

        From the run's dataset instead (upstream's script as it runs): --from-dataset DIR rolls out the first \
        --num-samples validation clips whose trajectory holds --frames frames from their start (ground-truth \
        frames and the actions recorded between them, as training reads them; the first --history frames are \
        the context), --batch-size at a time, and writes DIR/sample_XXXX_{gen,gt,compare}.mp4 (compare: ground \
        truth left, generated right). It needs the checkpoint's training config.yaml and its dataset.

        Example:
          nanowm rollout --checkpoint runs/quickstart/checkpoints/latest/<file>.ckpt --from-dataset rollouts \
              --num-samples 4 --frames 16
        """)

    @OptionGroup var model: CheckpointOptions
    @OptionGroup var diffusion: DiffusionOptions
    @Option(help: "Clip file with context (and action).") var input: String?
    @Option(help: "Output safetensors with samples.") var output: String?
    @Option(name: .customLong("from-dataset"), help: ArgumentHelp("Roll out validation clips of the run's dataset into this folder.", valueName: "DIR"))
    var fromDataset: String?
    @Option(name: .customLong("num-samples"), parsing: .unconditional, help: "With --from-dataset: clips to roll out (default 1).") var numSamples: Int?
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "With --from-dataset: clips rolled out together (default 1).") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Frames in the result, context included.") var frames = 50
    @Option(parsing: .unconditional, help: "Context frames kept (default: 4, as upstream's rollout, at most window − 1).") var history: Int?
    @Option(parsing: .unconditional, help: "Frames the model sees at once (default: the model's window).") var window: Int?
    @Option(help: ArgumentHelp("Also turn each rolled-out video into a point cloud beside it (<video>.ply and <video>_viewer.npz) with this Depth Anything 3 export (nanowm pointcloud's defaults).", valueName: "GEOMETRY"))
    var pointcloud: String?
    @OptionGroup var pixels: PixelOptions

    func run() throws {
        let choices = try diffusion.choices
        if fromDataset != nil && (input != nil || output != nil) {
            throw ConfigError(.invalidValue, "--from-dataset takes its clips from the run's dataset; drop --input and --output")
        }
        guard fromDataset != nil || (input != nil && output != nil) else {
            throw ConfigError(.invalidValue, "give --input CLIP and --output FILE, or --from-dataset DIR")
        }
        if fromDataset == nil && (numSamples != nil || batchSize != nil) {
            throw ConfigError(.invalidValue, "--num-samples and --batch-size go with --from-dataset; a clip file rolls out its own batch")
        }
        // A geometry file that cannot be used is refused before anything is rolled out.
        if let pointcloud { _ = try GeometryNetwork(contentsOf: pointcloud) }
        let (trained, network, device) = try model.load()
        // The reference's rollout script samples 50 sequential steps whatever its config says.
        let setup = try trained.samplingSetup(choices, defaults: .init(steps: 50, mode: .sequential), overriding: model.overrideConfig)
        guard let input, let output else { return try rolloutFromDataset(trained, network, setup, device) }
        var generation = ClipGeneration(model: network, device: device, setup: setup, seed: diffusion.seed)
        generation.pixels = try pixels.space(trained, input: input, output: output, device: device)
        if pointcloud != nil && !["mp4", "gif", "avi", "mkv"].contains(URL(fileURLWithPath: output).pathExtension.lowercased()) {
            throw ConfigError(.invalidValue, "--pointcloud needs a video --output (.mp4): the cloud is made from the decoded frames")
        }
        let shape = try generation.run(.rollout(frames: frames, history: history, window: window), input: input, output: output)
        print("wrote samples \(shape) to \(output)")
        try cloud(of: [URL(fileURLWithPath: output)])
        try model.noteAssumptions(trained, sampling: choices)
    }

    /// `--pointcloud`: each video's cloud beside it.
    private func cloud(of videos: [URL]) throws {
        guard let pointcloud else { return }
        for video in videos {
            let ply = video.deletingPathExtension().appendingPathExtension("ply")
            try PointCloudJob(video: video, geometry: pointcloud, output: ply).run()
        }
    }

    private func rolloutFromDataset(_ trained: TrainedCheckpoint, _ network: NanoWMModel, _ setup: SamplingSetup, _ device: Device) throws {
        guard let folder = fromDataset, let configuration = trained.configuration else {
            throw ConfigError(.missingConfig, "--from-dataset needs the checkpoint's training config.yaml (none at or above \(trained.path); give --config FILE)")
        }
        if window != nil { throw ConfigError(.invalidValue, "--window does not apply to --from-dataset (the model's window is used)") }
        guard diffusion.seed >= 0 else { throw ConfigError(.invalidValue, "--seed must be ≥ 0 (got \(diffusion.seed))") }
        var rollout = DatasetRollout()
        (rollout.samples, rollout.batchSize, rollout.length, rollout.fps) = (numSamples ?? 1, batchSize ?? 1, frames, pixels.fps)
        rollout.history = history ?? Swift.min(4, network.config.numFrames - 1)
        let space = try pixels.kind.map { try PixelSpace(kind: $0, file: pixels.file, checkpoint: trained.path, device: device) }
            ?? configuration.pixelSpace(checkpoint: trained.path, device: device)
        let videos = try rollout.run(model: network, configuration: configuration, pixels: space, setup: setup,
                                     seed: UInt64(diffusion.seed), into: URL(fileURLWithPath: folder), device: device)
        print("wrote \(videos.count / 3) rollouts of \(frames) frames to \(folder) (sample_XXXX_{gen,gt,compare}.mp4)")
        try cloud(of: videos.filter { $0.lastPathComponent.hasSuffix("_gen.mp4") })
    }
}
