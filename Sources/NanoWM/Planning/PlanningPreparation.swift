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
extension PlanningExperiment {
    public static func prepare(composition: ConfigComposition, runDirectory: URL? = nil, device: Device = .cpu,
                               log: @escaping (String) -> Void = { print($0) }) throws -> PlanningExperiment {
        let folder = try runDirectory?.standardizedFileURL ?? composition.runDirectory()
        var context = composition.resolveContext
        context.outputDirectory = folder.path
        let resolved = try composition.config.resolved(context)
        let tasks = try ExperimentTasks(try TaskSettings(resolved), choice: composition.choiceMap["experiment"])
        guard tasks.tasks == [.planning] else {
            throw ConfigError(.unsupported, "experiment=\(tasks.choice) does not run the planning task; use experiment=planning")
        }
        let settings = try PlanningSettings(resolved)
        if !settings.ignoredKeys.isEmpty {
            log("ignored here: \(settings.ignoredKeys.joined(separator: ", ")) (upstream's planner never reads it)")
        }
        let task = try PlanningTaskSettings(resolved)
        let checkpoint = try checkpointPath(task)
        let trained = try TrainedCheckpoint(checkpoint)
        guard let training = trained.configuration else {
            throw DataError("\(checkpoint): no training config.yaml in its folder or any folder above it; planning needs the run folder the checkpoint was trained in")
        }
        let model = try trained.model(device: device)
        let codec = try training.codec(device: device)
        let (process, options) = try samplingSetup(training, settings, mode: try task.schedulingMode.map(SchedulingMode.init(name:)),
                                                  historyStabilization: task.historyStabilization).make(device: device)
        let world = try PlanningWorldModel(model: model, codec: codec, process: process, options: options,
                                           contextFrames: training.settings.contextFrames)
        let frameInterval = training.dataset.frameInterval
        let imageSize = training.dataset.imageSize?.height ?? training.model.inputSize
        let renderSize = settings.environment == "builtin_wall" ? (training.dataset.builtin?.resolution ?? imageSize) : imageSize
        let environment = try PlanningEnvironments.make(settings.environment, imageSize: renderSize)
        let width = environment.actionDimension * frameInterval
        guard training.model.useAction, training.model.actionDim == width else {
            throw ConfigError(.invalidValue, "\(checkpoint): the model takes \(training.model.useAction ? "\(training.model.actionDim ?? 0)-d actions" : "no actions"), but planning in \(settings.environment) needs \(width) (\(environment.actionDimension)-d actions × frame_interval \(frameInterval))")
        }
        let statistics = try actionStatistics(training.dataset.loader, frameInterval: frameInterval, log: log)
        let goals = try self.goals(settings, environment: environment, training: training, frameInterval: frameInterval)
        let control = ModelPredictiveControl(world: world, settings: settings, frameInterval: frameInterval, statistics: statistics,
                                             imageSize: imageSize, device: device)
        let output = settings.outputDirectory.map { URL(fileURLWithPath: $0) } ?? folder.appendingPathComponent("planning_results")
        log("planning: \(settings.episodes) episodes in \(settings.environment), goals from \(settings.goalSource.rawValue); CEM \(settings.cem.numSamples) samples, top \(settings.cem.topK), \(settings.cem.iterations) iterations, \(settings.samplingSteps) DDIM steps; model \(training.model.summary)")
        return PlanningExperiment(control: control, environment: environment, goals: goals, output: output)
    }

    /// `ckpt_path`, which must name an existing local file.
    static func checkpointPath(_ task: PlanningTaskSettings) throws -> String {
        guard let path = task.checkpoint else {
            throw ConfigError(.invalidValue, "ckpt_path is not set; give the world model to plan with, e.g. ckpt_path=runs/<run>/checkpoints/latest/<file>.ckpt")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(.invalidValue, "ckpt_path: no file at \(path); give a local checkpoint (Hugging Face repo ids are not downloaded here)")
        }
        return path
    }

    /// The training run's process (all training steps, as upstream's planner builds it) sampled
    /// with the planning run's steps and, when given, its scheduling mode and history
    /// stabilisation (else the training run's).
    static func samplingSetup(_ training: RunConfiguration, _ settings: PlanningSettings, mode: SchedulingMode?,
                              historyStabilization: Double?) throws -> SamplingSetup {
        var setup = training.settings.respacedSamplingSetup()
        setup.respaced = false
        setup.options.steps = settings.samplingSteps
        setup.options.eta = 0
        setup.options.cachedCausal = settings.cachedSampling
        if let mode { setup.options.mode = mode }
        if let historyStabilization { setup.options.historyStabilization = historyStabilization }
        setup.names = .init(steps: "planning.num_sampling_steps", eta: "planning.eta",
                            historyStabilization: "experiment.diffusion.history_stabilization_level")
        try setup.validate()
        return setup
    }

    /// The dataset's action statistics when the model was trained on normalised actions.
    static func actionStatistics(_ loader: LoaderSettings, frameInterval: Int, log: (String) -> Void) throws -> ActionStatistics? {
        guard loader.normalizeAction == true else { return nil }
        let base = ProcessInfo.processInfo.environment["DATASET_DIR"] ?? ""
        for configured in [loader.dataPath, loader.dataPathTrain] {
            guard var path = configured else { continue }
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

    /// Goals from the environment's own draw, or replayed from the training run's validation
    /// trajectories (`builtinValidation`: the built-in dataset's validation split when the
    /// caller holds it already).
    static func goals(_ settings: PlanningSettings, environment: any PlanningEnvironment, training: RunConfiguration,
                      frameInterval: Int, builtinValidation: TrajectoryDataset? = nil) throws -> [PlanningGoal] {
        switch settings.goalSource {
        case .randomState:
            return PlanningGoals.random(environment, episodes: settings.episodes, seed: settings.seed)
        case .dataset:
            let dataset = training.dataset.name
            if dataset != DatasetSettings.builtinName {
                guard try training.isRecorded() else {
                    throw ConfigError(.unsupported, "planning.goal_source=dset replays the training dataset's recorded states, but dataset \(dataset) has none (use goal_source=random_state)")
                }
                return try PlanningGoals.replayed(environment, from: try RecordedGoalTrajectories(training: training.dataset.loader), episodes: settings.episodes,
                                                  seed: settings.seed, goalH: settings.goalHorizon, frameInterval: frameInterval)
            }
            guard settings.environment == "builtin_wall" else {
                throw ConfigError(.unsupported, "planning.goal_source=dset: the built-in wall's trajectories replay in env_name=builtin_wall only (got \(settings.environment))")
            }
            let validation = try builtinValidation ?? {
                let store = try TrajectoryStore(directory: URL(fileURLWithPath: try training.builtinSettings().directory))
                return try TrajectoryDataset.split(store, clipLength: training.model.numFrames, frameSkip: frameInterval,
                                                   validationFraction: 1 - (training.dataset.loader.splitRatio ?? 0.9)).validation
            }()
            let data = BuiltinWallTrajectories(store: validation.store, episodes: validation.episodes)
            return try PlanningGoals.replayed(environment, from: data, episodes: settings.episodes, seed: settings.seed,
                                             goalH: settings.goalHorizon, frameInterval: frameInterval)
        }
    }
}
