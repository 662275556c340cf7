import Foundation
import SwiftTorch

/// What a composed configuration asks for, read once with upstream's key names: the model,
/// the training settings, the dataset and the latent codec. Anything this build cannot
/// provide yet (a dataset reader, an encoder) is an error naming the missing piece.
public struct RunConfiguration {
    public let config: ConfigNode
    public let model: NanoWMConfig
    public let settings: TrainingSettings

    public init(_ config: ConfigNode) throws {
        self.config = config
        model = try Self.modelConfig(config)
        settings = try Self.trainingSettings(config)
    }

    /// `model.*`: a size preset by `arch`, or explicit width/depth/heads/patch for custom sizes.
    static func modelConfig(_ c: ConfigNode) throws -> NanoWMConfig {
        let injectionName = try c.optionalString("model.action_injection.type") ?? "additive"
        guard let injection = ActionInjection(rawValue: injectionName) else {
            throw ConfigError(.typeMismatch, "model.action_injection.type: unknown injection '\(injectionName)' (use \(ActionInjection.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let useAction = try c.optionalBool("model.use_action") ?? false
        // Upstream: action_dim = dataset.spec.action_dim × dataset.frame_interval.
        let actionDim = useAction ? try c.int("dataset.spec.action_dim") * (try c.optionalInt("dataset.frame_interval") ?? 1) : nil
        let latentSize = try c.int("model.latent_size"), channels = try c.int("model.latent_channels")
        let frames = try c.int("model.num_frames"), causal = try c.optionalBool("model.causal") ?? true
        if let arch = try c.optionalString("model.arch"), NanoWMConfig.variantNames.contains(arch) {
            return try NanoWMConfig(variant: arch, inputSize: latentSize, inChannels: channels, numFrames: frames,
                                    useAction: useAction, actionDim: actionDim, actionInjection: injection, causal: causal)
        }
        let config = NanoWMConfig(inputSize: latentSize, patchSize: try c.int("model.patch_size"), inChannels: channels,
                                  hiddenSize: try c.int("model.hidden_size"), depth: try c.int("model.depth"),
                                  numHeads: try c.int("model.num_heads"), mlpRatio: try c.optionalDouble("model.mlp_ratio") ?? 4,
                                  numFrames: frames, useAction: useAction, actionDim: actionDim, actionInjection: injection,
                                  causal: causal)
        try config.validate()
        return config
    }

    /// `experiment.*` and the sampling keys of `model.*`.
    static func trainingSettings(_ c: ConfigNode) throws -> TrainingSettings {
        var s = TrainingSettings()
        s.learningRate = try c.double("experiment.training.optimizer.lr")
        s.weightDecay = try c.double("experiment.training.optimizer.weight_decay")
        s.warmupSteps = try c.int("experiment.training.optimizer.lr_warmup_steps")
        s.maxSteps = try c.int("experiment.training.max_steps")
        s.batchSize = try c.int("experiment.training.batch_size")
        s.gradientAccumulation = try c.int("experiment.training.gradient_accumulation")
        s.gradientClipNorm = try c.double("experiment.training.gradient_clip_norm")
        s.gradientClipStartStep = try c.int("experiment.training.gradient_clip_start_step")
        s.logEvery = try c.int("experiment.training.log_every")
        s.validateEvery = try c.int("experiment.training.val_every_n_steps")
        s.latestCheckpointEvery = try c.int("experiment.training.checkpointing.latest.every_n_train_steps")
        s.periodicCheckpointEvery = try c.int("experiment.training.checkpointing.across_timesteps.every_n_train_steps")
        s.validationSize = try c.int("experiment.evaluation.validation_size")
        s.evaluationSamplingSteps = try c.optionalInt("experiment.evaluation.num_sampling_steps")
        let scheduleName = try c.string("experiment.diffusion.noise_schedule")
        guard let schedule = NoiseSchedule(rawValue: scheduleName) else {
            throw ConfigError(.typeMismatch, "experiment.diffusion.noise_schedule: unknown schedule '\(scheduleName)' (use linear or squaredcos_cap_v2)")
        }
        s.schedule = schedule
        s.diffusionSteps = try c.int("experiment.diffusion.diffusion_steps")
        s.target = try PredictionTarget(name: try c.string("experiment.diffusion.pred_name"))
        switch try c.string("experiment.diffusion.mode") {
        case "diffusion_forcing": s.diffusionForcing = true
        case "full_seq_diffusion": s.diffusionForcing = false
        case let other: throw ConfigError(.typeMismatch, "experiment.diffusion.mode: unknown mode '\(other)' (use diffusion_forcing or full_seq_diffusion)")
        }
        s.snrGamma = try c.double("experiment.diffusion.snr_gamma")
        s.zeroTerminalSNR = try c.bool("experiment.diffusion.zero_terminal_snr")
        s.timestepSampling = try TimestepSampling(name: try c.string("experiment.diffusion.timestep_sampling"),
                                                  mean: try c.optionalDouble("experiment.diffusion.logit_normal_mean") ?? 0,
                                                  std: try c.optionalDouble("experiment.diffusion.logit_normal_std") ?? 1)
        s.historyStabilization = try c.double("experiment.diffusion.history_stabilization_level")
        s.mixedPrecision = try c.optionalBool("experiment.infra.mixed_precision") ?? false
        s.seed = UInt64(try c.int("experiment.infra.seed"))
        s.contextFrames = try c.int("model.n_context_frames")
        s.schedulingMode = try SchedulingMode(name: try c.string("model.scheduling_mode"))
        s.samplingSteps = try c.int("model.num_sampling_steps")
        return s
    }

    /// The latent codec `latent_codec.kind` names (pixel here; the pretrained encoders load
    /// as TorchScript once exported).
    public func codec() throws -> LatentCodec {
        let kind = try config.optionalString("latent_codec.kind") ?? "sd_vae"
        switch kind {
        case "pixel": return PixelCodec()
        default:
            throw ConfigError(.missingConfig, "latent_codec '\(kind)' is not available in this build yet (only 'pixel'); use latent_codec=pixel, or export the encoder to TorchScript first")
        }
    }

    /// Train and validation clips of the configured dataset, generating the built-in
    /// environment's data on first use.
    public func datasets(progress: ((Int, Int) -> Void)? = nil) throws -> (train: ClipDataset, validation: ClipDataset) {
        let name = try config.string("dataset.name")
        switch name {
        case "builtin_wall":
            let directory = URL(fileURLWithPath: try config.string("dataset.data_dir"))
            let store = try WallDataGenerator.generate(into: directory, episodes: try config.int("dataset.num_trajectories"),
                                                       length: try config.int("dataset.trajectory_length"),
                                                       resolution: try config.int("dataset.resolution"),
                                                       seed: UInt64(try config.int("dataset.seed")), progress: progress)
            let split = try TrajectoryDataset.split(store, clipLength: model.numFrames,
                                                    frameSkip: try config.optionalInt("dataset.frame_interval") ?? 1)
            return (split.train, split.validation)
        default:
            throw ConfigError(.missingConfig, "dataset '\(name)' has no reader in this build yet (available: builtin_wall); use dataset=builtin/wall")
        }
    }
}
