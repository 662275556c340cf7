import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

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

    /// - Parameters:
    ///   - composition: the composed (unresolved) configuration; saved into the run folder.
    ///   - runDirectory: where to write; default is the configuration's `hydra.run.dir`.
    public convenience init(composition: ConfigComposition, runDirectory: URL? = nil, device: Device = .cpu,
                            group: ProcessGroup? = nil, log: (String) -> Void = { print($0) }) throws {
        try self.init(plan: try RunPlan(composition: composition, runDirectory: runDirectory), device: device, group: group, log: log)
    }

    /// Starts a checked plan. The run folder is created only now; if the start fails after
    /// that (reading the data, loading weights), the folder goes again when this created it.
    /// With a process group, this is one rank of a data-parallel run: rank 0 alone creates
    /// and writes the run folder (and generates missing data while the others wait).
    public init(plan: RunPlan, device: Device = .cpu, group: ProcessGroup? = nil, log: (String) -> Void = { print($0) }) throws {
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
            (run, configuration, trainer, validation) = try Self.start(plan, device: device, group: group, log: log)
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

    private static func start(_ plan: RunPlan, device: Device, group: ProcessGroup?, log: (String) -> Void) throws
        -> (RunDirectory, RunConfiguration, Trainer, ClipDataset) {
        let folder = plan.folder, configuration = plan.configuration
        let writer = (group?.rank ?? 0) == 0
        if let notRun = plan.tasksNotRunLine { log(notRun) }
        if let ignored = plan.ignoredLine { log(ignored) }
        let run = try RunDirectory(folder, create: writer)
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
        log("data: \(train.count) training clips, \(validation.count) validation clips of \(train.clipLength) frames")

        // Upstream seeds everything before building the model, so init is reproducible.
        try manualSeed(configuration.settings.seed)
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
            let logger = try TensorBoardWriter(runDirectory: folder)
            trainer.logger = logger
            // CPU and RAM beside the losses, every log_every steps.
            let system = SystemMetrics(), every = configuration.settings.logEvery
            trainer.callbacks.append(StepCallback(afterStep: { step, _ in
                if step % every == 0 { try? system.log(to: logger, step: step) }
            }))
        }
        if configuration.settings.sampledClipMetrics {
            if codec.hasDecoder {
                if let metrics = try Self.sampledClipMetrics(trainer: trainer, validation: validation, codec: codec,
                                                             settings: configuration.settings) {
                    trainer.callbacks.append(StepCallback(atValidation: metrics))
                }
            } else {
                log("validation: no PSNR/SSIM of sampled clips (latent_codec=\(configuration.codecKind) has no decoder)")
            }
        }

        if let pretrained = configuration.experiment.pretrained {
            for line in try CheckpointWeights.load(pretrained, into: model, codec: codec) { log("pretrained: \(line)") }
        }
        if let resume = plan.trainingResume {
            try trainer.resume(from: resume)
            log("resumed: \(resume) at step \(trainer.step)"
                + (plan.requestedCheckpoint == nil ? " (the run folder's newest checkpoint; give another run folder to start afresh)" : ""))
        } else if configuration.experiment.resumeFrom == ExperimentSettings.resumeLatest {
            log("resume: no checkpoint in \(folder.path) yet, starting at step 0")
        }
        return (run, configuration, trainer, validation)
    }

    /// PSNR/SSIM of clips sampled from a fixed validation subset (at most 4 clips, fixed seed),
    /// logged at every validation, on the full process as upstream's validation samples. The
    /// seed is restored afterwards, so evaluating never changes the training run.
    static func sampledClipMetrics(trainer: Trainer, validation: ClipDataset, codec: LatentCodec,
                                   settings: TrainingSettings) throws -> ((Int) throws -> [String: Double])? {
        guard validation.count > 0 else { return nil }
        let (process, options) = try settings.validationSamplingSetup().make(device: trainer.device)
        let subset = try ClipBatcher(dataset: validation, batchSize: 4, seed: 0)
        let indices = subset.evenlySpacedIndices(4)
        return { _ in
            let state = try Generator.defaultCPU.state()
            defer { try? Generator.defaultCPU.setState(state) }
            trainer.model.eval()
            let evaluation = WorldModelEvaluation(model: trainer.model, codec: codec, process: process, options: options,
                                                  contextFrames: settings.contextFrames, seed: settings.seed)
            let (video, actions) = try subset.stack(indices)
            let prediction = try evaluation.predict(try video.to(trainer.device), actions: trainer.model.config.useAction ? try actions.to(trainer.device) : nil)
            let scores = try evaluation.scores(prediction, try video.to(trainer.device))
            return ["val/psnr": scores.psnr, "val/ssim": scores.ssim]
        }
    }

    /// Trains to `experiment.training.max_steps`. The log is flushed, and stays open for what
    /// the caller logs about the trained model; it closes with the job.
    public func train(showProgress: Bool = true) throws {
        try trainer.fit(showProgress: showProgress)
        try trainer.logger?.flush()
    }

    deinit { try? trainer.logger?.close() }
}
