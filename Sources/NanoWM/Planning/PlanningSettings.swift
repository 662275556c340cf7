import Foundation
import NanoWMConfiguration
import NanoWMCore

/// The `planning.*` block of a planning run (upstream's `configs/planning/*.yaml`), read and
/// checked before anything runs. Every key of the block is read here, so an unknown one
/// (`+planning.foo=1`) is refused instead of composing and doing nothing.
public struct PlanningSettings {
    public enum GoalSource: String, Sendable { case randomState = "random_state", dataset = "dset" }

    public var environment = "point_maze"          // env_name
    public var episodes = 50                       // n_evals
    public var seed = 42
    public var videos = 5                          // n_plot_samples
    public var outputDirectory: String?            // output_dir
    public var goalSource = GoalSource.randomState
    public var goalHorizon = 5                     // goal_H
    public var horizon = 5
    public var replanEvery = 5
    public var maxEpisodeSteps = 50
    public var samplingSteps = 20                  // num_sampling_steps
    public var cem = CEMPlanner.Settings()
    public var objective = try! PlanningObjective()
    /// The resolved block as written, for `planning_config` in the results.
    public var block: ConfigNode = .null
    /// Keys of the block upstream never reads (`planning.planner.*`), to be named once.
    public var ignoredKeys: [String] = []

    public init() {}

    /// Keys of the block this build reads; `planning.cem.name`-style extras are refused.
    static let known: Set<String> = [
        "env_name", "n_evals", "seed", "n_plot_samples", "output_dir", "goal_source", "goal_H", "horizon",
        "replan_every", "max_episode_steps", "num_sampling_steps", "eta",
        "cem.num_samples", "cem.topk", "cem.opt_steps", "cem.var_scale", "cem.eval_every", "cem.sigma_min",
        "cem.action_low", "cem.action_high", "cem.rollout_batch_size",
        "objective.mode", "objective.alpha", "objective.base", "objective.visual_metric", "objective.token_dim",
    ]

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
        // Absent keys (base.yaml has no objective.visual_metric) read as null, as upstream's .get does.
        func present(_ key: String) -> Bool { config.contains("planning." + key) }
        func optionalInt(_ key: String) throws -> Int? { present(key) ? try config.optionalInt("planning." + key) : nil }
        func optionalDouble(_ key: String) throws -> Double? { present(key) ? try config.optionalDouble("planning." + key) : nil }
        func optionalString(_ key: String) throws -> String? { present(key) ? try config.optionalString("planning." + key) : nil }
        func int(_ key: String, _ fallback: Int) throws -> Int { try optionalInt(key) ?? fallback }
        func double(_ key: String, _ fallback: Double) throws -> Double { try optionalDouble(key) ?? fallback }
        environment = try optionalString("env_name") ?? environment
        episodes = try int("n_evals", episodes)
        seed = try int("seed", seed)
        videos = try int("n_plot_samples", videos)
        outputDirectory = try optionalString("output_dir")
        let source = try optionalString("goal_source") ?? goalSource.rawValue
        guard let parsed = GoalSource(rawValue: source) else {
            throw ConfigError(.invalidValue, "planning.goal_source: unknown '\(source)' (use random_state or dset)")
        }
        goalSource = parsed
        horizon = try int("horizon", horizon)
        goalHorizon = try optionalInt("goal_H") ?? horizon
        replanEvery = try int("replan_every", replanEvery)
        maxEpisodeSteps = try int("max_episode_steps", maxEpisodeSteps)
        samplingSteps = try int("num_sampling_steps", samplingSteps)
        let eta = try double("eta", 0)
        guard eta == 0 else {
            throw ConfigError(.unsupported, "planning.eta=\(eta) is not supported: upstream's planner never reads it and rolls out with η = 0; leave it at 0.0")
        }
        cem.numSamples = try int("cem.num_samples", cem.numSamples)
        cem.topK = try int("cem.topk", cem.topK)
        cem.iterations = try int("cem.opt_steps", cem.iterations)
        cem.varianceScale = try double("cem.var_scale", cem.varianceScale)
        cem.sigmaMin = try double("cem.sigma_min", cem.sigmaMin)
        cem.actionLow = try optionalDouble("cem.action_low")
        cem.actionHigh = try optionalDouble("cem.action_high")
        cem.rolloutBatchSize = try optionalInt("cem.rollout_batch_size")
        if let batch = cem.rolloutBatchSize, batch <= 0 { cem.rolloutBatchSize = nil } // upstream: ≤ 0 means all
        try cem.validate()
        let modeName = try optionalString("objective.mode") ?? "last"
        let metricName = try optionalString("objective.visual_metric") ?? "mse"
        guard let mode = PlanningObjective.Mode(rawValue: modeName) else {
            throw ConfigError(.invalidValue, "planning.objective.mode: unknown '\(modeName)' (use last or all)")
        }
        guard let metric = PlanningObjective.Metric(rawValue: metricName) else {
            throw ConfigError(.invalidValue, "planning.objective.visual_metric: unknown '\(metricName)' (use mse or cosine)")
        }
        objective = try PlanningObjective(mode: mode, metric: metric, base: try double("objective.base", 2.0),
                                          tokenDimension: try optionalInt("objective.token_dim"))
        try validate()
    }

    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw ConfigError(.invalidValue, message) } }
        try require(episodes >= 1, "planning.n_evals must be at least 1 (got \(episodes))")
        try require(seed >= 0, "planning.seed must be ≥ 0 (got \(seed))")
        try require(videos >= 0, "planning.n_plot_samples must be ≥ 0 (got \(videos))")
        try require(horizon >= 1, "planning.horizon must be at least 1 (got \(horizon))")
        try require(goalHorizon >= 1, "planning.goal_H must be at least 1 (got \(goalHorizon))")
        try require(replanEvery >= 1 && replanEvery <= horizon,
                    "planning.replan_every must lie in [1, horizon = \(horizon)] (got \(replanEvery)); a plan has only horizon actions")
        try require(maxEpisodeSteps >= 1, "planning.max_episode_steps must be at least 1 (got \(maxEpisodeSteps))")
        try require(samplingSteps >= 1, "planning.num_sampling_steps must be at least 1 (got \(samplingSteps))")
    }
}
