import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// The quickstart's last phase: the trained model plans to `planning.n_evals` goals in the
/// built-in wall (goals replayed from held-out trajectories), next to two baselines on the same
/// goals: random actions, and CEM with the true simulator as the model (an upper bound).
public enum QuickstartPlanning {
    public struct Result {
        public var report: Quickstart.PlanningReport
        public var video: String?
    }

    /// What the phase needs from a quickstart run: its trained model, configuration, held-out
    /// episodes and codec, and where `planning_results/` goes.
    public struct Run {
        public var model: NanoWMModel
        public var configuration: RunConfiguration
        public var validation: TrajectoryDataset
        public var codec: LatentCodec
        public var device: Device
        public var folder: URL
    }

    static func run(job: TrainingJob, model: NanoWMModel, log: @escaping (String) -> Void) throws -> Result {
        guard let validation = job.validation as? TrajectoryDataset else {
            throw DataError("the quickstart's planning needs the built-in trajectory dataset")
        }
        return try run(Run(model: model, configuration: job.configuration, validation: validation, codec: job.codec,
                           device: job.trainer.device, folder: job.run.url),
                       settings: try PlanningSettings(job.configuration.config), log: log)
    }

    /// The planning phase alone on a finished quickstart run (`nanowm quickstart --plan-only RUN`):
    /// its config.yaml and newest checkpoint, the planning settings of `composition`.
    public static func run(savedRun folder: URL, composition: ConfigComposition,
                           log: @escaping (String) -> Void = { print($0) }) throws -> Result {
        guard let checkpoint = try RunDirectory(folder).latestCheckpoint else {
            throw DataError("\(folder.path): no checkpoints/latest/*.ckpt; give the folder of a finished quickstart run")
        }
        let trained = try TrainedCheckpoint(checkpoint.path)
        guard let configuration = trained.configuration else { throw DataError("\(folder.path): no config.yaml; give the folder of a finished quickstart run") }
        let model = try trained.model()
        let (_, validation) = try configuration.datasets()
        guard let held = validation as? TrajectoryDataset else { throw DataError("the quickstart's planning needs the built-in trajectory dataset") }
        return try run(Run(model: model, configuration: configuration, validation: held, codec: try configuration.codec(),
                           device: .cpu, folder: folder),
                       settings: try PlanningSettings(try composition.resolved()), log: log)
    }

    static func run(_ run: Run, settings: PlanningSettings, log: @escaping (String) -> Void) throws -> Result {
        let started = Date()
        let model = run.model
        guard settings.environment == "builtin_wall" else {
            throw ConfigError(.unsupported, "the quickstart plans in the built-in wall; planning.env_name must be builtin_wall (got \(settings.environment))")
        }
        let frameInterval = run.configuration.dataset.frameInterval
        let resolution = try run.configuration.builtinSettings().resolution
        let environment = try PlanningEnvironments.make(settings.environment, imageSize: resolution)
        let goals = try PlanningExperiment.goals(settings, environment: environment, training: run.configuration, frameInterval: frameInterval,
                                          builtinValidation: run.validation)
        // Upstream's planning scripts sample every window with model.scheduling_mode=full_sequence:
        // all new frames denoised together, a third of the sequential mode's model calls.
        let setup = try PlanningExperiment.samplingSetup(run.configuration, settings, mode: .fullSequence, historyStabilization: nil)
        let (process, options) = try setup.make(device: run.device)
        let world = try PlanningWorldModel(model: model, codec: run.codec, process: process, options: options,
                                           contextFrames: run.configuration.settings.contextFrames)
        var control = ModelPredictiveControl(world: world, settings: settings, frameInterval: frameInterval, statistics: nil,
                                             imageSize: model.config.inputSize, device: run.device)
        let horizonText = "\(settings.goalHorizon) actions away"
        log("planning to \(goals.count) goals \(horizonText) (CEM \(settings.cem.numSamples) samples, top \(settings.cem.topK), \(settings.cem.iterations) iterations, \(settings.samplingSteps) DDIM steps) …")
        control.showProgress = false
        var experiment = PlanningExperiment(control: control, environment: environment, goals: goals,
                                            output: run.folder.appendingPathComponent("planning_results"))
        experiment.log = { _ in }
        let bar = ProgressBar("plan", total: goals.count)
        var done = 0
        experiment.episodeDone = { _ in done += 1; bar.update(done) }
        let outcome = try experiment.run()
        let worldSeconds = Date().timeIntervalSince(started)

        control.predictor = .simulator
        let simulator = try goals.enumerated().map { index, goal -> Bool in
            var copy = environment
            return try control.episode(index, goal: goal, environment: &copy, label: "").metrics.success
        }
        let random = try goals.enumerated().map { index, goal in
            try randomActionsReach(goal, episode: index, environment: environment, settings: settings, frameInterval: frameInterval)
        }
        let report = Quickstart.PlanningReport(goals: goals.count, goalSteps: settings.goalHorizon,
                                               worldModelSuccesses: outcome.results.successCount,
                                               randomActionSuccesses: random.filter { $0 }.count,
                                               simulatorSuccesses: simulator.filter { $0 }.count,
                                               worldModelSeconds: worldSeconds, results: outcome.resultsFile.path)
        log(String(format: "  world model + CEM       %2d/%d goals reached (%.0f s, %.1f s per goal)", report.worldModelSuccesses, report.goals,
                   worldSeconds, worldSeconds / Double(max(report.goals, 1))))
        log(String(format: "  random actions          %2d/%d", report.randomActionSuccesses, report.goals))
        log(String(format: "  CEM on the simulator    %2d/%d  (a perfect model: the upper bound)", report.simulatorSuccesses, report.goals))
        return Result(report: report, video: outcome.videos.first?.path)
    }

    /// Uniform random actions in [−1, 1] for the same number of steps, judged at the same
    /// checkpoints as the planner (after every `replan_every` model actions).
    static func randomActionsReach(_ goal: PlanningGoal, episode: Int, environment: any PlanningEnvironment,
                                   settings: PlanningSettings, frameInterval: Int) throws -> Bool {
        var environment = environment
        var random = SeededRandom(seed: UInt64(settings.seed + episode) &+ 0x5EED)
        if let layout = goal.layout { try environment.applyLayout(layout) }
        try environment.reset(to: goal.initialState, seed: UInt64(settings.seed + episode))
        for step in 0..<settings.maxEpisodeSteps {
            for _ in 0..<frameInterval {
                try environment.step((0..<environment.actionDimension).map { _ in random.uniform(-1, 1) })
            }
            if (step + 1) % settings.replanEvery == 0 || step + 1 == settings.maxEpisodeSteps,
               environment.evaluate(goal: goal.goalState, current: environment.state).success {
                return true
            }
        }
        return false
    }
}
