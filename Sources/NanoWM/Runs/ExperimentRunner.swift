import Foundation
import SwiftTorch
import NanoWMConfiguration

/// The counterpart of the reference's `main.py`: a composed configuration in, its experiment
/// run. The whole plan is checked before anything is written (`RunPlan`, `PlanningExperiment.prepare`);
/// then the planning experiment plans, or the training experiment trains (across worker
/// processes when asked) and evaluates what it trained. The command line only parses options
/// into a runner and prints what it reports.
public struct ExperimentRunner {
    public let composition: ConfigComposition
    /// The run folder (nil: the configuration's `hydra.run.dir`).
    public var runDirectory: URL?
    public var device: Device = .cpu
    /// Worker processes on this machine (nil or 1: this process trains alone).
    public var workers: Int?
    /// Seconds the workers of a data-parallel run wait for one another (nil: 1800).
    public var timeout: Double?
    /// The command line a worker process starts with, given the run folder the launcher fixed.
    public var workerArguments: (URL) -> [String] = { _ in [] }
    public var log: (String) -> Void = { print($0) }
    /// Called by the training loop after the run's own callbacks (system scalars, sampled-clip
    /// metrics), in order.
    public var trainingCallbacks: [TrainingCallback] = []

    public init(composition: ConfigComposition) { self.composition = composition }

    /// Which tasks run: `experiment.tasks` in full (`nanowm run`), or training alone (`nanowm train`).
    public enum Scope { case allTasks, trainingOnly }

    /// What a run leaves for its caller.
    public struct Outcome {
        /// The training this process ran, its model trained and its run folder open (nil when
        /// training was not a task, this process only launched the workers, or it planned).
        public var training: TrainingJob?
    }

    /// Runs the configuration's experiment.
    @discardableResult
    public func run(_ scope: Scope) throws -> Outcome {
        if scope == .allTasks, try TaskSettings(try composition.resolved()).name == "planning" {
            try plan()
            return Outcome()
        }
        return try trainAndEvaluate(allTasks: scope == .allTasks)
    }

    /// The planning experiment: every episode, then the results' files.
    public func plan() throws {
        // Planning runs its episodes in one process; these options would do nothing.
        if workers != nil || timeout != nil {
            throw ConfigError(.unsupported, "planning runs in one process: --nproc-per-node and --dist-timeout apply to training and evaluation only; drop them")
        }
        try device.ensureAvailable()
        let experiment = try PlanningExperiment.prepare(composition: composition, runDirectory: runDirectory, device: device, log: log)
        let outcome = try experiment.run()
        log("results: \(outcome.resultsFile.path)")
        log("targets: \(outcome.targetsFile.path)")
        for video in outcome.videos { log("video: \(video.path)") }
    }

    /// The training experiment: checks the run (every task, or the training task), launches the
    /// workers or joins their group, trains, then evaluates what it trained.
    func trainAndEvaluate(allTasks: Bool) throws -> Outcome {
        try device.ensureAvailable()
        let plan = try RunPlan(composition: composition, runDirectory: runDirectory, allTasks: allTasks)
        if allTasks, plan.tasks.tasks.contains(.evaluate) { try EvaluationJob.checkFiles(plan: plan) }
        if let workers, workers != 1 {  // the launcher refuses 0 and below
            // Checked once here, then every worker writes to the same run folder.
            let launcher = try LocalLauncher(workers: workers, arguments: workerArguments(plan.folder))
            log("starting \(workers) workers (run folder: \(plan.folder.path))")
            try launcher.run()
            return Outcome()
        }
        let worker = try DataParallelWorker.join(device: device, timeout: timeout ?? 1800)
        let isWriter = (worker?.group.rank ?? 0) == 0
        let log = isWriter ? self.log : { _ in }
        var outcome = Outcome()
        var trained: String?
        if plan.tasks.tasks.contains(.training) {
            let job = try TrainingJob(plan: plan, device: worker?.device ?? device, group: worker?.group, log: log)
            job.trainer.callbacks += trainingCallbacks
            let settings = job.configuration.settings
            job.log("training \(settings.maxSteps) steps (batch \(settings.batchSize)) …")
            try job.train(showProgress: isWriter)
            outcome.training = job
            try worker?.group.barrier()  // rank 0's last checkpoint is on disk for every rank
            trained = job.run.latestCheckpoint?.path
            if let trained { job.log("checkpoint: \(trained)") }
            job.log("tensorboard: tensorboard --logdir \(job.run.tensorboard.path)")
        }
        // The evaluate task scores what training just wrote, else experiment.resume_from_checkpoint,
        // with the validation clips split across the workers.
        guard allTasks, plan.tasks.tasks.contains(.evaluate) else { return outcome }
        try EvaluationJob.run(plan: plan, checkpoint: trained, device: worker?.device ?? device, group: worker?.group, log: self.log)
        return outcome
    }
}
