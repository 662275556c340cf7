/// Everything a run reads from its composed configuration, decoded once: the experiment and its
/// tasks, the model, diffusion, training loop, evaluation, infrastructure, dataset and codec.
/// Nothing outside this target reads a key by name; `KeyPolicy` classifies every key
/// (`KeyPolicyTests` checks that each key decoded here is one it calls honoured).
public struct ExperimentSettings: Sendable {
    public var tasks: TaskSettings
    public var pretrained: String?                 // experiment.pretrained
    public var resumeFrom: String?                 // experiment.resume_from_checkpoint
    public var mixedPrecision: Bool                // experiment.infra.mixed_precision (null: false)
    public var seed: Int                           // experiment.infra.seed
    public var model: ModelSettings
    public var diffusion: DiffusionSettings
    public var training: TrainingLoopSettings
    public var evaluation: EvaluationSettings
    public var dataset: DatasetSettings
    public var codec: CodecSettings
    public var wandb: WandbSettings

    public static let pretrainedKey = "experiment.pretrained"
    public static let resumeKey = "experiment.resume_from_checkpoint"
    /// The value of `resumeKey` that names the run folder's newest checkpoint.
    public static let resumeLatest = "latest"

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config)
        tasks = try TaskSettings(config)
        pretrained = try r.get("experiment.pretrained")
        resumeFrom = try r.get("experiment.resume_from_checkpoint")
        mixedPrecision = try r.nullable("experiment.infra.mixed_precision") ?? false
        seed = try r.required("experiment.infra.seed")
        dataset = try DatasetSettings(config)
        model = try ModelSettings(config)
        diffusion = try DiffusionSettings(config)
        training = try TrainingLoopSettings(config)
        evaluation = try EvaluationSettings(config)
        codec = try CodecSettings(config)
        wandb = try WandbSettings(config)
    }
}

/// `experiment.name` and `experiment.tasks`: which experiment runs which of its tasks.
public struct TaskSettings: Sendable {
    public var name: String
    public var tasks: [String]

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config)
        name = try r.required("experiment.name")
        tasks = try r.strings("experiment.tasks")
    }
}
