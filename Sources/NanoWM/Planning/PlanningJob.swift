import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// `nanowm run experiment=planning` / `nanowm plan`: everything a planning run needs, loaded and
/// checked before anything is written (upstream's `PlanningExperiment.planning` up to the MPC
/// loop). The model, codec, diffusion and frame interval come from the checkpoint's training
/// `config.yaml`; the planning block, the scheduling mode and history stabilisation from the
/// planning run's configuration, as upstream reads them.
public enum PlanningJob {
    public static func prepare(composition: ConfigComposition, runDirectory: URL? = nil, device: Device = .cpu,
                               log: @escaping (String) -> Void = { print($0) }) throws -> PlanningExperiment {
        let folder = try runDirectory?.standardizedFileURL ?? composition.runDirectory()
        var context = composition.resolveContext
        context.outputDirectory = folder.path
        let resolved = try composition.config.resolved(context)
        let tasks = try ExperimentTasks(resolved, choice: composition.choiceMap["experiment"])
        guard tasks.tasks == [.planning] else {
            throw ConfigError(.unsupported, "experiment=\(tasks.choice) does not run the planning task; use experiment=planning")
        }
        let settings = try PlanningSettings(resolved)
        if !settings.ignoredKeys.isEmpty {
            log("ignored here: \(settings.ignoredKeys.joined(separator: ", ")) (upstream's planner never reads it)")
        }
        let checkpoint = try checkpointPath(resolved)
        let trained = try TrainedCheckpoint(checkpoint)
        guard let training = trained.configuration else {
            throw DataError("\(checkpoint): no training config.yaml in its folder or any folder above it; planning needs the run folder the checkpoint was trained in")
        }
        let model = try trained.model(device: device)
        let codec = try training.codec(device: device)
        let (process, options) = try samplingSetup(resolved, training, settings).make(device: device)
        let world = try PlanningWorldModel(model: model, codec: codec, process: process, options: options,
                                           contextFrames: training.settings.contextFrames)
        let frameInterval = training.dataset.frameInterval
        let imageSize = try training.config.ifPresent("model.image_size", training.config.optionalInt) ?? training.model.inputSize
        let renderSize = settings.environment == "builtin_wall" ? (try training.config.ifPresent("dataset.resolution", training.config.optionalInt) ?? imageSize) : imageSize
        let environment = try PlanningEnvironments.make(settings.environment, imageSize: renderSize)
        let width = environment.actionDimension * frameInterval
        guard training.model.useAction, training.model.actionDim == width else {
            throw ConfigError(.invalidValue, "\(checkpoint): the model takes \(training.model.useAction ? "\(training.model.actionDim ?? 0)-d actions" : "no actions"), but planning in \(settings.environment) needs \(width) (\(environment.actionDimension)-d actions × frame_interval \(frameInterval))")
        }
        let statistics = try actionStatistics(training.config, frameInterval: frameInterval, log: log)
        let goals = try self.goals(settings, environment: environment, training: training, frameInterval: frameInterval)
        let control = ModelPredictiveControl(world: world, settings: settings, frameInterval: frameInterval, statistics: statistics,
                                             imageSize: imageSize, device: device)
        let output = settings.outputDirectory.map { URL(fileURLWithPath: $0) } ?? folder.appendingPathComponent("planning_results")
        log("planning: \(settings.episodes) episodes in \(settings.environment), goals from \(settings.goalSource.rawValue); CEM \(settings.cem.numSamples) samples, top \(settings.cem.topK), \(settings.cem.iterations) iterations, \(settings.samplingSteps) DDIM steps; model \(training.model.summary)")
        return PlanningExperiment(control: control, environment: environment, goals: goals, output: output)
    }

    /// `ckpt_path`, which must name an existing local file.
    static func checkpointPath(_ config: ConfigNode) throws -> String {
        guard config.contains("ckpt_path"), let path = try config.ifPresent("ckpt_path", config.optionalString) else {
            throw ConfigError(.invalidValue, "ckpt_path is not set; give the world model to plan with, e.g. ckpt_path=runs/<run>/checkpoints/latest/<file>.ckpt")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(.invalidValue, "ckpt_path: no file at \(path); give a local checkpoint (Hugging Face repo ids are not downloaded here)")
        }
        return path
    }

    /// The training run's process (all training steps, as upstream's planner builds it) sampled
    /// with the planning run's steps, scheduling mode and history stabilisation.
    static func samplingSetup(_ planning: ConfigNode, _ training: RunConfiguration, _ settings: PlanningSettings) throws -> SamplingSetup {
        var setup = training.settings.respacedSamplingSetup()
        setup.respaced = false
        setup.options.steps = settings.samplingSteps
        setup.options.eta = 0
        if let mode = try planning.ifPresent("model.scheduling_mode", planning.optionalString) { setup.options.mode = try SchedulingMode(name: mode) }
        if let level = try planning.ifPresent("experiment.diffusion.history_stabilization_level", planning.optionalDouble) {
            setup.options.historyStabilization = level
        }
        setup.names = .init(steps: "planning.num_sampling_steps", eta: "planning.eta",
                            historyStabilization: "experiment.diffusion.history_stabilization_level")
        try setup.validate()
        return setup
    }

    /// The dataset's action statistics when the model was trained on normalised actions.
    static func actionStatistics(_ config: ConfigNode, frameInterval: Int, log: (String) -> Void) throws -> ActionStatistics? {
        guard try config.ifPresent("dataset.loader.normalize_action", config.optionalBool) == true else { return nil }
        let base = ProcessInfo.processInfo.environment["DATASET_DIR"] ?? ""
        for key in ["dataset.loader.data_path", "dataset.loader.data_path_train"] where config.contains(key) {
            guard var path = try config.optionalString(key) else { continue }
            if !path.hasPrefix("/"), !base.isEmpty {
                path = URL(fileURLWithPath: base).appendingPathComponent(String(path.drop { $0 == "." || $0 == "/" })).path
            }
            if let file = ActionStatistics.file(in: URL(fileURLWithPath: path)) {
                log("action statistics: \(file.path)")
                return try ActionStatistics(reading: file.path, frameInterval: frameInterval)
            }
        }
        log("warning: the model was trained on normalised actions but no wm_stats_cache/action_train_*.pt was found; actions are used as planned")
        return nil
    }

    static func goals(_ settings: PlanningSettings, environment: any PlanningEnvironment, training: RunConfiguration,
                      frameInterval: Int) throws -> [PlanningGoal] {
        switch settings.goalSource {
        case .randomState:
            return PlanningGoals.random(environment, episodes: settings.episodes, seed: settings.seed)
        case .dataset:
            let dataset = try training.config.ifPresent("dataset.name", training.config.optionalString)
            if dataset != "builtin_wall" {
                guard try training.isRecorded() else {
                    throw ConfigError(.unsupported, "planning.goal_source=dset replays the training dataset's recorded states, but dataset \(dataset ?? "null") has none (use goal_source=random_state)")
                }
                return try PlanningGoals.replayed(environment, from: try RecordedGoalTrajectories(training: training.dataset.loader), episodes: settings.episodes,
                                                  seed: settings.seed, goalH: settings.goalHorizon, frameInterval: frameInterval)
            }
            guard settings.environment == "builtin_wall" else {
                throw ConfigError(.unsupported, "planning.goal_source=dset: the built-in wall's trajectories replay in env_name=builtin_wall only (got \(settings.environment))")
            }
            let store = try TrajectoryStore(directory: URL(fileURLWithPath: try training.config.string("dataset.data_dir")))
            let fraction = 1 - (try training.config.ifPresent("dataset.loader.split_ratio", training.config.optionalDouble) ?? 0.9)
            let split = try TrajectoryDataset.split(store, clipLength: training.model.numFrames, frameSkip: frameInterval,
                                                    validationFraction: fraction)
            let data = BuiltinWallTrajectories(store: store, episodes: split.validation.episodes)
            return try PlanningGoals.replayed(environment, from: data, episodes: settings.episodes, seed: settings.seed,
                                             goalH: settings.goalHorizon, frameInterval: frameInterval)
        }
    }
}
