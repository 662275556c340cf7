import Foundation
import NanoWMConfiguration
import NanoWMCore

/// The `planning.*` block of a planning run (`PlanningBlock`) in the planner's types, checked
/// before anything runs.
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
    public var cachedSampling = true               // cached_sampling (ours)
    public var cem = CEMPlanner.Settings()
    public var objective = try! PlanningObjective()
    /// The resolved block as written, for `planning_config` in the results.
    public var block: ConfigNode = .null
    /// Keys of the block upstream never reads (`planning.planner.*`), to be named once.
    public var ignoredKeys: [String] = []

    public init() {}

    public init(_ config: ConfigNode) throws { try self.init(try PlanningBlock(config)) }

    /// The decoded block in the planner's and objective's types, checked.
    public init(_ p: PlanningBlock) throws {
        block = p.block
        ignoredKeys = p.ignoredKeys
        environment = p.environment
        episodes = p.episodes
        seed = p.seed
        videos = p.videos
        outputDirectory = p.outputDirectory
        guard let parsed = GoalSource(rawValue: p.goalSource) else {
            throw ConfigError(.invalidValue, "planning.goal_source: unknown '\(p.goalSource)' (use random_state or dset)")
        }
        goalSource = parsed
        horizon = p.horizon
        goalHorizon = p.goalHorizon ?? horizon
        replanEvery = p.replanEvery
        maxEpisodeSteps = p.maxEpisodeSteps
        samplingSteps = p.samplingSteps
        cachedSampling = p.cachedSampling
        guard p.eta == 0 else {
            throw ConfigError(.unsupported, "planning.eta=\(p.eta) is not supported: upstream's planner never reads it and rolls out with η = 0; leave it at 0.0")
        }
        cem.numSamples = p.cemSamples
        cem.topK = p.cemTopK
        cem.iterations = p.cemIterations
        cem.varianceScale = p.cemVarianceScale
        cem.sigmaMin = p.cemSigmaMin
        cem.actionLow = p.cemActionLow
        cem.actionHigh = p.cemActionHigh
        cem.rolloutBatchSize = p.cemRolloutBatchSize.flatMap { $0 > 0 ? $0 : nil } // upstream: ≤ 0 means all
        try cem.validate()
        guard let mode = PlanningObjective.Mode(rawValue: p.objectiveMode) else {
            throw ConfigError(.invalidValue, "planning.objective.mode: unknown '\(p.objectiveMode)' (use last or all)")
        }
        guard let metric = PlanningObjective.Metric(rawValue: p.objectiveMetric) else {
            throw ConfigError(.invalidValue, "planning.objective.visual_metric: unknown '\(p.objectiveMetric)' (use mse or cosine)")
        }
        objective = try PlanningObjective(mode: mode, metric: metric, base: p.objectiveBase, tokenDimension: p.objectiveTokenDimension)
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
