import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// Everything a training run needs beyond the model architecture, with upstream's names in
/// the comments (`experiment.training.*`, `experiment.diffusion.*`) and its defaults.
public struct TrainingSettings: Sendable {
    // experiment.training
    public var learningRate = 1e-4                 // optimizer.lr
    public var weightDecay = 0.01                  // optimizer.weight_decay
    public var warmupSteps = 1000                  // optimizer.lr_warmup_steps (used only with applyWarmup)
    public var applyWarmup = false                 // optimizer.apply_lr_warmup (ours; the reference never warms up)
    public var maxSteps = 1_000_000                // max_steps
    public var batchSize = 8                       // batch_size
    public var gradientAccumulation = 1            // gradient_accumulation
    public var gradientClipNorm = 0.1              // gradient_clip_norm
    public var gradientClipStartStep = 20_000      // gradient_clip_start_step
    public var applyGradientClipping = false       // apply_gradient_clip (ours; see UpdateRule)
    /// A step whose loss or gradient norm is not finite: false stops the run (naming the
    /// step, keeping the last checkpoint), true leaves the weights as they were and goes on.
    public var skipNonFiniteSteps = false          // skip_nonfinite_steps (ours)
    public var logEvery = 100                      // log_every
    public var validateEvery = 1000                // val_every_n_steps
    public var latestCheckpointEvery = 1000        // checkpointing.latest.every_n_train_steps
    public var periodicCheckpointEvery = 10_000    // checkpointing.across_timesteps.every_n_train_steps
    // experiment.evaluation
    public var evaluationSamplingSteps: Int?       // num_sampling_steps (nil: the model's)
    public var sampledClipMetrics = true           // metrics.evaluate: sample and score validation clips (val_eval/*)
    // dataset.loader (upstream reads the validation size there, not under experiment.evaluation)
    public var validationSize: Int? = 32           // validation_size (nil: the whole validation split)
    // experiment.diffusion
    public var schedule = NoiseSchedule.squaredcosCapV2
    public var diffusionSteps = 1000
    public var target = PredictionTarget.v
    public var diffusionForcing = true             // mode: diffusion_forcing | full_seq_diffusion
    public var snrGamma = 5.0
    public var zeroTerminalSNR = true
    public var timestepSampling = TimestepSampling.logitNormal(mean: 0, std: 1)
    public var historyStabilization = 0.02
    // experiment.infra
    public var mixedPrecision = true               // bf16 autocast, CUDA only
    public var seed: UInt64 = 3407
    // model
    public var contextFrames = 1                   // n_context_frames
    public var schedulingMode = SchedulingMode.sequential
    public var samplingSteps = 250                 // num_sampling_steps
    /// experiment.evaluation.scheduling_mode (nil: model.scheduling_mode), as upstream's evaluation.
    public var evaluationSchedulingMode: SchedulingMode?

    public init() {}

    /// The training process (all diffusion steps) or flow matching.
    public func makeProcess(device: Device = .cpu) throws -> DiffusionProcess {
        if target == .flow { return FlowMatching(steps: diffusionSteps) }
        return try GaussianDiffusion(schedule: schedule, target: target, steps: diffusionSteps,
                                     zeroTerminalSNR: zeroTerminalSNR, snrGamma: snrGamma, device: device)
    }

    /// The training objective on `process`: this run's timestep sampling, diffusion forcing or
    /// full-sequence noise levels, and mixed precision.
    public func objective(process: DiffusionProcess) -> DiffusionForcingLoss {
        DiffusionForcingLoss(process: process, timestepSampling: timestepSampling, diffusionSteps: diffusionSteps,
                             perFrame: diffusionForcing, mixedPrecision: mixedPrecision)
    }

    /// The generator of validation's timestep and noise draws: seeded apart from training's
    /// (`seed + 1`), and made on `device`, the device the draws are made on (the model's):
    /// libtorch refuses a CPU generator for draws on a GPU.
    public func validationGenerator(device: Device) throws -> Generator {
        try Generator(seed: seed &+ 1, device: device)
    }

    /// Sampling on a process respaced to the steps, as the reference's sampling scripts build
    /// it: the model's scheduling mode (or experiment.evaluation.scheduling_mode), history
    /// stabilisation, and `evaluation.num_sampling_steps` (else the model's) steps. The
    /// quickstart's held-out evaluation, rollouts and planning sample this way.
    public func respacedSamplingSetup() -> SamplingSetup {
        var setup = SamplingSetup()
        (setup.target, setup.schedule, setup.zeroTerminalSNR) = (target, schedule, zeroTerminalSNR)
        setup.diffusionSteps = diffusionSteps
        setup.options.mode = evaluationSchedulingMode ?? schedulingMode
        setup.options.steps = evaluationSamplingSteps ?? samplingSteps
        setup.options.historyStabilization = historyStabilization
        setup.names = SamplingSetup.Names(
            steps: evaluationSamplingSteps == nil ? "model.num_sampling_steps" : "experiment.evaluation.num_sampling_steps",
            eta: "eta", historyStabilization: "experiment.diffusion.history_stabilization_level")
        return setup
    }

    /// The reference's validation and evaluate-task sampling (spec §3.2): the same steps and
    /// mode on the full training process, with the float32 linspace(−1, T−1, k+1) grid
    /// truncated, instead of a process respaced to the steps.
    public func validationSamplingSetup() -> SamplingSetup {
        var setup = respacedSamplingSetup()
        setup.respaced = false
        return setup
    }

    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw ConfigError(.invalidValue, message) } }
        try require(learningRate > 0, "experiment.training.optimizer.lr must be positive")
        try require(batchSize > 0, "experiment.training.batch_size must be positive")
        try require(gradientAccumulation > 0, "experiment.training.gradient_accumulation must be positive")
        try require(maxSteps > 0, "experiment.training.max_steps must be positive")
        try require(warmupSteps >= 0, "experiment.training.optimizer.lr_warmup_steps must not be negative")
        try require((validationSize ?? 1) > 0, "dataset.loader.validation_size must be positive (or null for the whole validation split)")
        try require(logEvery > 0, "experiment.training.log_every must be positive")
        try require(validateEvery > 0, "experiment.training.val_every_n_steps must be positive")
    }
}
