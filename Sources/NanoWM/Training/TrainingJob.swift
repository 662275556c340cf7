import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore
import PythonCompatible

/// A training run from a composed configuration, as `nanowm train` (and the quickstart) runs
/// it: run folder with the composed config, seeded model, optional pretrained weights or
/// resume, TensorBoard logging, training, and the final checkpoint.
public final class TrainingJob {
    public let run: RunDirectory
    public let configuration: RunConfiguration
    public let trainer: Trainer
    public let validation: ClipDataset
    /// Rank 0 holds its run folder for the job's life: no second run writes into it meanwhile.
    private let lock: RunFolderLock?
    /// The run's codec (training may read its encoder output from a latent cache).
    public var codec: LatentCodec { trainer.clips.codec }
    /// The run's text log (`train.log`; `train_rank<r>.log` for the other ranks of a
    /// data-parallel run), which every line `log` shows also goes to.
    public let textLog: TextLog
    /// Shows a line (the caller's `log`) and keeps it in the run's text log.
    public let log: (String) -> Void

    /// - Parameters:
    ///   - composition: the composed (unresolved) configuration; saved into the run folder.
    ///   - runDirectory: where to write; default is the configuration's `hydra.run.dir`.
    public convenience init(composition: ConfigComposition, runDirectory: URL? = nil, device: Device = .cpu,
                            group: ProcessGroup? = nil, log: @escaping (String) -> Void = { print($0) }) throws {
        try self.init(plan: try RunPlan(composition: composition, runDirectory: runDirectory), device: device, group: group, log: log)
    }

    /// Starts a checked plan. The run folder is created only now; if the start fails after
    /// that (reading the data, loading weights), the folder goes again when this created it.
    /// With a process group, this is one rank of a data-parallel run: rank 0 alone creates
    /// and writes the run folder (and generates missing data while the others wait).
    public init(plan: RunPlan, device: Device = .cpu, group: ProcessGroup? = nil, log: @escaping (String) -> Void = { print($0) }) throws {
        let writer = (group?.rank ?? 0) == 0
        let created = writer ? Self.outermostMissingFolder(plan.folder) : nil
        if writer {
            try Folder.create(plan.folder)
            // Refused, the folder is another run's, even if this process made it a moment ago.
            lock = try RunFolderLock(plan.folder)
        } else {
            lock = nil
        }
        do {
            let lines = RunLines(show: log)
            (run, configuration, trainer, validation) = try Self.start(plan, device: device, group: group, lines: lines)
            self.textLog = lines.file!
            self.log = lines.write
        } catch {
            if let created { try? FileManager.default.removeItem(at: created) }
            throw error
        }
    }

    /// The outermost folder on the way to `folder` that does not exist yet (all of what
    /// creating `folder` adds), or nil when it exists already.
    static func outermostMissingFolder(_ folder: URL) -> URL? {
        var missing: URL?, current = folder.standardizedFileURL
        while current.path != "/" && !FileManager.default.fileExists(atPath: current.path) {
            missing = current
            current = current.deletingLastPathComponent()
        }
        return missing
    }

    private static func start(_ plan: RunPlan, device: Device, group: ProcessGroup?,
                              lines: RunLines) throws -> (RunDirectory, RunConfiguration, Trainer, ClipDataset) {
        let folder = plan.folder, configuration = plan.configuration
        let writer = (group?.rank ?? 0) == 0
        let run = try RunDirectory(folder, create: writer)
        // Rank 0's text log from the start; the others' once rank 0 has made the folder.
        if writer { lines.file = try TextLog(url: folder.appendingPathComponent("train.log")) }
        let log = lines.write
        if let notRun = plan.tasksNotRunLine { log(notRun) }
        if let ignored = plan.ignoredLine { log(ignored) }
        if writer {
            try plan.composition.saveRunFiles(in: folder)
            log("run folder: \(folder.path)")
            for path in run.removeStaleTemporaries() {
                log("warning: removed \(path), a partial checkpoint left by a run killed while saving")
            }
        }
        if let group {
            log("data-parallel: \(group.worldSize) processes (\(group.backend.rawValue)), a global batch of \(group.worldSize) × \(configuration.settings.batchSize) clips")
        }
        log("model: \(configuration.model.summary)")

        // Rank 0 generates missing data while the others wait, so no two write the same files.
        if !writer { try group?.barrier() }
        var generated: ProgressBar?
        let (train, validation) = try configuration.datasets(runDirectory: folder, checked: plan.recordedSplits) { done, total in
            if generated == nil { generated = ProgressBar("data", total: total) }
            generated?.update(done)
        }
        if writer { try group?.barrier() }
        if let group, !writer {
            // Rank 0 saved the run's files before the barrier. A rank that does not see them runs
            // on another node whose disk is not rank 0's: it could neither resume from rank 0's
            // checkpoints nor evaluate them, so it stops here with a line that says why.
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.yaml").path) else {
                throw DistributedError.badLaunch("rank \(group.rank) on \(ProcessInfo.processInfo.hostName): the run folder \(folder.path) "
                    + "that rank 0 made is not here; on several nodes the run folder must be on a filesystem every node "
                    + "sees at the same path (rank 0 alone writes it, every rank reads its checkpoints)")
            }
            lines.file = try TextLog(url: folder.appendingPathComponent("train_rank\(group.rank).log"))
        }
        log("data: \(train.count) training clips, \(validation.count) validation clips of \(train.clipLength) frames")

        // Upstream seeds everything before building the model, so init is reproducible.
        try manualSeed(configuration.settings.seed)
        try ReferenceMatmulPrecision.apply(for: device)
        let model = try NanoWMModel(configuration.model)
        if device != .cpu { try model.to(device) }
        let codec = plan.codec
        try codec.to(device)
        var training = (train: train, validation: validation, clips: ClipCodec(codec))
        if let cached = try configuration.cachedTraining(train, validation, codec: codec) {
            training = (cached.train, cached.validation, cached.clips)
            log("latent cache: \(cached.cache.directory.path) (the encoder is skipped; posterior samples are drawn every step)")
        }
        let trainer = try Trainer(model: model, settings: configuration.settings, train: training.train,
                                  validation: training.validation, clips: training.clips, run: run, device: device,
                                  group: group)
        if writer {
            let tensorBoard = try TensorBoardWriter(runDirectory: folder)
            var loggers: [MetricsLogger] = [tensorBoard, lines.file!]
            if let wandb = Self.wandb(plan, log: log) { loggers.append(wandb) }
            trainer.logger = LoggerGroup(loggers)
            // CPU and RAM beside the losses, every log_every steps.
            let system = SystemMetrics(), every = configuration.settings.logEvery
            trainer.callbacks.append(StepCallback(afterStep: { step, _ in
                if step % every == 0 { try? system.log(to: tensorBoard, step: step) }
            }))
            if configuration.settings.sampledClipMetrics {
                var notes: [String] = []
                let evaluation = try TrainingEvaluation(trainer: trainer, configuration: configuration, validation: validation,
                                                        codec: codec, folder: folder, log: { lines.file?.text($0) },
                                                        notes: &notes)
                trainer.callbacks.append(evaluation)
                let every = configuration.experiment.evaluation.evaluateEvery
                log("validation: every \(configuration.settings.validateEvery) steps; val_eval/* and val_vis/* "
                    + "at those that are multiples of \(every) (experiment.evaluation.metrics.log_every_n_train_steps)"
                    + (codec.hasDecoder ? "" : "; latent metrics only (latent_codec=\(configuration.codecKind) has no decoder)"))
                for note in notes { log("validation: \(note)") }
            }
        } else {
            trainer.logger = lines.file
        }

        if let pretrained = configuration.experiment.pretrained {
            for line in try CheckpointWeights.load(pretrained, into: model, codec: codec) { log("pretrained: \(line)") }
        }
        if let resume = plan.trainingResume {
            let notes = try trainer.resume(from: resume)
            log("resumed: \(resume) at step \(trainer.step)"
                + (plan.requestedCheckpoint == nil ? " (the run folder's newest checkpoint; give another run folder to start afresh)" : ""))
            for note in notes { log("resumed: note: \(note)") }
        } else if configuration.experiment.resumeFrom == ExperimentSettings.resumeLatest {
            log("resume: no checkpoint in \(folder.path) yet, starting at step 0")
        }
        return (run, configuration, trainer, validation)
    }

    /// The reference's W&B run, when wandb.* asks for one: named
    /// `<model.name>-F<num_frames>-<dataset.name>-<pred_name>`, with the resolved configuration
    /// as its hyperparameters.
    static func wandb(_ plan: RunPlan, log: @escaping (String) -> Void) -> WandbLogger? {
        let configuration = plan.configuration, settings = configuration.experiment.wandb
        guard settings.isOn else { return nil }
        let name = "\(configuration.experiment.model.name ?? "nanowm")-F\(configuration.model.numFrames)-"
            + "\(configuration.dataset.name)-\(configuration.settings.target.rawValue)"
        let run = WandbLogger.Run(project: settings.project, entity: settings.entity, name: name, mode: settings.mode.rawValue,
                                  configJSON: PythonJSON.dumps(plan.resolved.jsonValue), folder: plan.folder)
        let logger = WandbLogger.start(python: settings.python, run: run, note: log)
        if let logger { log("W&B: run \(logger.runID) (\(settings.mode.rawValue), project \(settings.project)) in \(plan.folder.appendingPathComponent("wandb").path)") }
        return logger
    }

    /// Trains to `experiment.training.max_steps`. The log is flushed, and stays open for what
    /// the caller logs about the trained model; it closes with the job.
    public func train(showProgress: Bool = true) throws {
        do {
            try trainer.fit(showProgress: showProgress)
        } catch {
            textLog.text("error: \(error)")
            throw error
        }
        try trainer.logger?.flush()
    }

    deinit {
        try? trainer.logger?.close()
        try? textLog.close()
    }
}

/// A run's lines: shown on the terminal and, once the run's text log is open, written there
/// too (rank 0's `train.log` from the start, another rank's `train_rank<r>.log` once rank 0 has
/// made the folder). One sink, so every line after the log opens reaches it, on every rank.
final class RunLines {
    private let show: (String) -> Void
    var file: TextLog?

    init(show: @escaping (String) -> Void) { self.show = show }

    func write(_ line: String) {
        show(line)
        file?.text(line)
    }
}
