/// The `planning.*` block of a planning run (upstream's `configs/planning/*.yaml`), decoded
/// with upstream's defaults. Absent keys read as null (`.get`), and null means the default.
/// Every key of the block is one this build reads: an unknown one (`+planning.foo=1`) is
/// refused instead of composing and doing nothing; `planning.planner.*`, which upstream never
/// reads, is named as ignored.
public struct PlanningBlock: Sendable {
    public var environment = "point_maze"          // env_name
    public var episodes = 50                       // n_evals
    public var seed = 42
    public var videos = 5                          // n_plot_samples
    public var outputDirectory: String?            // output_dir
    public var goalSource = "random_state"         // goal_source (random_state | dset)
    public var horizon = 5
    public var goalHorizon: Int?                   // goal_H (null: horizon)
    public var replanEvery = 5                     // replan_every
    public var maxEpisodeSteps = 50                // max_episode_steps
    public var samplingSteps = 20                  // num_sampling_steps
    public var eta = 0.0                           // eta (upstream's planner never reads it: η = 0)
    public var cemSamples = 100                    // cem.num_samples
    public var cemTopK = 10                        // cem.topk
    public var cemIterations = 30                  // cem.opt_steps
    public var cemVarianceScale = 1.0              // cem.var_scale
    public var cemSigmaMin = 1e-3                  // cem.sigma_min
    public var cemActionLow: Double?               // cem.action_low
    public var cemActionHigh: Double?              // cem.action_high
    public var cemRolloutBatchSize: Int?           // cem.rollout_batch_size (≤ 0 or null: all at once)
    public var objectiveMode = "last"              // objective.mode (last | all)
    public var objectiveMetric = "mse"             // objective.visual_metric (mse | cosine)
    public var objectiveBase = 2.0                 // objective.base
    public var objectiveTokenDimension: Int?       // objective.token_dim
    /// cached_sampling (ours): a causal model's sequential windows sample each frame on its
    /// cached context; false runs the reference's whole-window steps.
    public var cachedSampling = true
    /// The resolved block as written, for `planning_config` in the results.
    public var block: ConfigNode = .null
    /// Keys of the block upstream never reads (`planning.planner.*`), to be named once.
    public var ignoredKeys: [String] = []

    /// Keys of the block this build reads.
    public static let known: Set<String> = [
        "env_name", "n_evals", "seed", "n_plot_samples", "output_dir", "goal_source", "goal_H", "horizon",
        "replan_every", "max_episode_steps", "num_sampling_steps", "eta",
        "cem.num_samples", "cem.topk", "cem.opt_steps", "cem.var_scale", "cem.eval_every", "cem.sigma_min",
        "cem.action_low", "cem.action_high", "cem.rollout_batch_size", "cached_sampling",
        "objective.mode", "objective.alpha", "objective.base", "objective.visual_metric", "objective.token_dim",
    ]

    /// The defaults, as upstream's planner has them.
    public init() {}

    public init(_ config: ConfigNode) throws {
        guard let block = config["planning"], block.mapping != nil else {
            throw ConfigError(.invalidValue, "planning: no planning block in the configuration; select one with planning=base")
        }
        self.block = block
        for key in block.leafPaths where !Self.known.contains(key) {
            if key.hasPrefix("planner.") { // configs/planning/planner/cem.yaml: no code path reads it upstream
                if !ignoredKeys.contains("planning.planner.*") { ignoredKeys.append("planning.planner.*") }
                continue
            }
            throw ConfigError(.unknownOption, "planning.\(key) is not a planning setting upstream reads (`nanowm config --keys` lists them)")
        }
        let r = SettingsReader(config, prefix: "planning.")
        environment = try r.get("env_name") ?? environment
        episodes = try r.get("n_evals") ?? episodes
        seed = try r.get("seed") ?? seed
        videos = try r.get("n_plot_samples") ?? videos
        outputDirectory = try r.get("output_dir")
        goalSource = try r.get("goal_source") ?? goalSource
        horizon = try r.get("horizon") ?? horizon
        goalHorizon = try r.get("goal_H")
        replanEvery = try r.get("replan_every") ?? replanEvery
        maxEpisodeSteps = try r.get("max_episode_steps") ?? maxEpisodeSteps
        samplingSteps = try r.get("num_sampling_steps") ?? samplingSteps
        eta = try r.get("eta") ?? eta
        cemSamples = try r.get("cem.num_samples") ?? cemSamples
        cemTopK = try r.get("cem.topk") ?? cemTopK
        cemIterations = try r.get("cem.opt_steps") ?? cemIterations
        cemVarianceScale = try r.get("cem.var_scale") ?? cemVarianceScale
        cemSigmaMin = try r.get("cem.sigma_min") ?? cemSigmaMin
        cemActionLow = try r.get("cem.action_low")
        cemActionHigh = try r.get("cem.action_high")
        cemRolloutBatchSize = try r.get("cem.rollout_batch_size")
        objectiveMode = try r.get("objective.mode") ?? objectiveMode
        objectiveMetric = try r.get("objective.visual_metric") ?? objectiveMetric
        objectiveBase = try r.get("objective.base") ?? objectiveBase
        objectiveTokenDimension = try r.get("objective.token_dim")
        cachedSampling = try r.get("cached_sampling") ?? cachedSampling
    }
}
