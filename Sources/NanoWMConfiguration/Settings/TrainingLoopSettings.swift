/// `experiment.training.*`: the optimiser, the loop's length and batches, and when it logs,
/// validates and saves.
public struct TrainingLoopSettings: Sendable {
    public var learningRate: Double                // optimizer.lr
    public var weightDecay: Double                 // optimizer.weight_decay
    public var warmupSteps: Int                    // optimizer.lr_warmup_steps (the reference's schedule ignores it)
    public var applyWarmup: Bool                   // optimizer.apply_lr_warmup (ours; absent: false)
    public var maxSteps: Int                       // max_steps
    public var batchSize: Int                      // batch_size
    public var gradientAccumulation: Int           // gradient_accumulation
    public var gradientClipNorm: Double            // gradient_clip_norm
    public var gradientClipStartStep: Int          // gradient_clip_start_step
    public var applyGradientClipping: Bool         // apply_gradient_clip (ours; absent: false)
    public var skipNonFiniteSteps: Bool            // skip_nonfinite_steps (ours; absent: false)
    public var logEvery: Int                       // log_every
    public var validateEvery: Int                  // val_every_n_steps
    public var latestCheckpointEvery: Int          // checkpointing.latest.every_n_train_steps
    public var periodicCheckpointEvery: Int        // checkpointing.across_timesteps.every_n_train_steps

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config, prefix: "experiment.training.")
        learningRate = try r.required("optimizer.lr")
        weightDecay = try r.required("optimizer.weight_decay")
        warmupSteps = try r.required("optimizer.lr_warmup_steps")
        applyWarmup = try r.get("optimizer.apply_lr_warmup") ?? false
        maxSteps = try r.required("max_steps")
        batchSize = try r.required("batch_size")
        gradientAccumulation = try r.required("gradient_accumulation")
        gradientClipNorm = try r.required("gradient_clip_norm")
        gradientClipStartStep = try r.required("gradient_clip_start_step")
        applyGradientClipping = try r.get("apply_gradient_clip") ?? false
        skipNonFiniteSteps = try r.get("skip_nonfinite_steps") ?? false
        logEvery = try r.required("log_every")
        validateEvery = try r.required("val_every_n_steps")
        latestCheckpointEvery = try r.required("checkpointing.latest.every_n_train_steps")
        periodicCheckpointEvery = try r.required("checkpointing.across_timesteps.every_n_train_steps")
    }
}
