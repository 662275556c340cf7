/// `experiment.evaluation.*`: how validation and the evaluate task sample and score.
public struct EvaluationSettings: Sendable {
    public var samplingSteps: Int?                 // num_sampling_steps (null: model.num_sampling_steps)
    public var schedulingMode: String?             // scheduling_mode (absent or null: model.scheduling_mode)
    public var sampledClipMetrics: Bool            // metrics.evaluate (absent or null: true)
    /// metrics.log_every_n_train_steps: during training, the validations whose step is a
    /// multiple of this sample and score the validation clips (val_eval/*, val_vis/*).
    public var evaluateEvery: Int
    /// metrics.max_batchsize: clips the metric networks take at a time (memory only).
    public var metricBatchSize: Int
    public var batchSize: Int?                     // batch_size (null: experiment.training.batch_size)
    public var saveVideos: Bool                    // save_videos (null: true)
    public var cachedSampling: Bool                // cached_sampling (ours; absent: true)
    /// The metric networks' files: metrics.lpips_model_path, inception_model_path, i3d_model_path.
    public var lpipsFile: String?
    public var inceptionFile: String?
    public var i3dFile: String?

    public static let lpipsKey = "experiment.evaluation.metrics.lpips_model_path"
    public static let inceptionKey = "experiment.evaluation.metrics.inception_model_path"
    public static let i3dKey = "experiment.evaluation.metrics.i3d_model_path"

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config, prefix: "experiment.evaluation.")
        samplingSteps = try r.nullable("num_sampling_steps")
        schedulingMode = try r.get("scheduling_mode")
        sampledClipMetrics = r.has("metrics.evaluate") ? try r.nullable("metrics.evaluate") ?? true : true
        evaluateEvery = try r.get("metrics.log_every_n_train_steps") ?? 5000
        metricBatchSize = try r.get("metrics.max_batchsize") ?? 2
        guard evaluateEvery > 0 else { throw ConfigError(.invalidValue, "experiment.evaluation.metrics.log_every_n_train_steps must be positive") }
        guard metricBatchSize > 0 else { throw ConfigError(.invalidValue, "experiment.evaluation.metrics.max_batchsize must be positive") }
        batchSize = try r.get("batch_size")
        saveVideos = try r.get("save_videos") ?? true
        cachedSampling = try r.get("cached_sampling") ?? true
        lpipsFile = try r.get("metrics.lpips_model_path")
        inceptionFile = try r.get("metrics.inception_model_path")
        i3dFile = try r.get("metrics.i3d_model_path")
    }
}
