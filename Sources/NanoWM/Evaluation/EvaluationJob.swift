import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// The evaluate task (`nanowm run experiment=evaluate_only …`, `nanowm evaluate …`) with
/// upstream's protocol (spec §3): the checkpoint's model (strict) and, for the SD-VAE, its
/// `vae.*` weights; every clip of the validation set (restricted to the fixed subset when one
/// is configured); the first n_context encoded frames as context; diffusion-forcing sampling on
/// the full training process with its truncated DDIM grid, the configured scheduling mode and
/// history stabilisation, every random draw the reference's (`EvaluationDraws`); then the
/// metrics on the predicted frames (pixel codecs) or the latent metrics (encoder-only codecs),
/// and the validation loss. Writes metrics.json (with every setting behind the numbers),
/// eval_videos/ as upstream lays it out, and a per-frame plot.
///
/// With a process group the batches are split across the ranks in consecutive blocks; each
/// rank first makes (and drops) the random draws of the batches before its block, so every
/// batch is sampled with the noise a single process gives it, and the scores and FID/FVD
/// features are gathered in order: the numbers are a single process's. Each rank saves its own
/// clips' videos; rank 0 writes the rest.
public final class EvaluationJob {
    public let configuration: RunConfiguration
    public let checkpoint: String
    public let folder: URL
    public let device: Device
    public let group: ProcessGroup?
    public let log: (String) -> Void

    public init(configuration: RunConfiguration, checkpoint: String, folder: URL, device: Device = .cpu,
                group: ProcessGroup? = nil, log: @escaping (String) -> Void = { print($0) }) {
        (self.configuration, self.checkpoint, self.folder, self.device, self.group, self.log) = (configuration, checkpoint, folder, device, group, log)
    }

    var isWriter: Bool { (group?.rank ?? 0) == 0 }

    /// The sampling description: upstream's evaluation samples on every training timestep.
    func samplingSetup() throws -> SamplingSetup { configuration.settings.validationSamplingSetup() }

    static let metricKeys = (lpips: EvaluationSettings.lpipsKey, inception: EvaluationSettings.inceptionKey,
                             i3d: EvaluationSettings.i3dKey)

    /// The metric network files the configuration names. A default file that is missing
    /// (checkpoints/…, upstream's I3D path) leaves its metric out with a note, since they are
    /// optional downloads; a path the user set for LPIPS or FID must exist (one-line error).
    static func networkFiles(_ evaluation: EvaluationSettings, notes: inout [String]) throws -> (lpips: String?, inception: String?, i3d: String?) {
        func file(_ configured: String?, _ key: String, _ fallback: String, metric: String, kind: String?) throws -> String? {
            if let configured, kind != nil {
                try MetricNetworkFile.requireFile(configured, kind: kind, option: key)
                return configured
            }
            let path = configured ?? fallback
            guard FileManager.default.fileExists(atPath: path) else {
                notes.append("\(metric) omitted: \(path) not found (\(key); checkpoints/README.md says how to make it)")
                return nil
            }
            return path
        }
        return (try file(evaluation.lpipsFile, metricKeys.lpips, "checkpoints/lpips_vgg.pt", metric: "lpips", kind: LPIPSNetwork.kind),
                try file(evaluation.inceptionFile, metricKeys.inception, "checkpoints/fid_inception.pt", metric: "fid", kind: InceptionFeatures.kind),
                try file(evaluation.i3dFile, metricKeys.i3d, "checkpoints/i3d_torchscript.pt", metric: "fvd", kind: nil))
    }

    /// Checks, before any worker starts or anything is written, what the evaluate task of
    /// `plan` needs on disk beyond the checkpoint: the metric network files it was given.
    public static func checkFiles(plan: RunPlan) throws {
        var notes: [String] = []
        if plan.codec.hasDecoder { _ = try networkFiles(plan.configuration.experiment.evaluation, notes: &notes) }
    }

    /// The metric networks the configuration names (see `networkFiles`), loaded.
    func networks(notes: inout [String]) throws -> MetricNetworks {
        let files = try Self.networkFiles(configuration.experiment.evaluation, notes: &notes)
        return try MetricNetworks(lpips: files.lpips, inception: files.inception, i3d: files.i3d, device: device,
                                  options: Self.metricKeys)
    }

    /// The model with the checkpoint's weights, loaded strictly as upstream's evaluation does.
    /// Building it makes the model's initialisation draws (`EvaluationDraws`, step 2).
    func model(codec: LatentCodec) throws -> NanoWMModel {
        let (model, loaded) = try CheckpointWeights.model(configuration.model, from: checkpoint, codec: codec, device: device)
        for line in loaded { log("checkpoint: \(line)") }
        return model
    }

    /// `traj_<episode>_start_<start>` as upstream names clip folders, where the dataset knows them.
    static func clipName(_ dataset: ClipDataset, _ index: Int) -> String {
        if let (episode, start) = dataset.origin(of: index) {
            return String(format: "traj_%04d_start_%04d", episode, start)
        }
        return String(format: "clip_%04d", index)
    }

    /// Scores the checkpoint on `validation` with the metric networks loaded (`notes`: metrics
    /// left out, and why). Every random draw is the reference's, in its order (`EvaluationDraws`): the same
    /// checkpoint, data and settings give the same predictions and numbers as its evaluate task.
    func evaluate(codec: LatentCodec, validation: ClipDataset, networks: MetricNetworks, notes: [String],
             progress: Bool) throws -> MetricsSummary {
        try manualSeed(configuration.settings.seed)
        let model = try model(codec: codec)
        let (summary, setup, options, batchSize) = try score(model: model, codec: codec, validation: validation, clips: validation.count,
                                                             networks: networks, notes: notes, progress: progress, step: 0)
        guard isWriter else { return summary }
        try write(summary, setup: setup, options: options, clips: validation.count, batchSize: batchSize, codec: codec)
        return summary
    }

    /// What `score` hands out of each batch for a look at it: the clips' names, the ground truth
    /// `[B, T, 3, H, W]` in [−1, 1], the latents sampling started from (for the codec's
    /// reconstruction) and the decoded prediction.
    struct ScoredBatch {
        var names: [String]
        var truth: Tensor
        var latents: Tensor
        var prediction: Tensor
    }

    /// The evaluate task after the model's initialisation (`EvaluationDraws` from step 3 on):
    /// samples the first `clips` clips of `validation` with `model` and scores them, saving
    /// their videos under eval_videos/step_<step> when the configuration asks. `model` must
    /// be in eval mode. Returns the summary (with val_loss) and what it sampled with.
    func score(model: NanoWMModel, codec: LatentCodec, validation: ClipDataset, clips count: Int, networks: MetricNetworks,
               notes: [String], progress: Bool, step: Int, look: ((ScoredBatch) throws -> Void)? = nil) throws
        -> (summary: MetricsSummary, setup: SamplingSetup, options: SamplingOptions, batchSize: Int) {
        let settings = configuration.settings
        let evaluation = configuration.experiment.evaluation
        let batchSize = evaluation.batchSize ?? settings.batchSize
        guard count > 0 else { throw EvaluationError("the validation set is empty; nothing to evaluate") }
        guard batchSize > 0 else { throw ConfigError(.invalidValue, "experiment.evaluation.batch_size must be positive") }
        let latentOnly = !codec.hasDecoder
        // experiment.evaluation.metrics.evaluate: without it the reference's validation samples
        // nothing and logs only val_loss.
        let sampling = settings.sampledClipMetrics
        try EvaluationDraws.codecProbe(codec, frame: validation.frameShape)
        if sampling && !latentOnly { try EvaluationDraws.metricNetworks() }
        try EvaluationDraws.dataLoaderSeed()
        try codec.to(device)
        let objective = settings.objective(process: try settings.makeProcess(device: device))
        let setup = try samplingSetup()
        let (process, made) = try setup.make(device: device)
        var options = made
        options.cachedCausal = evaluation.cachedSampling
        let sampler = DiffusionForcingSampler(process: process, options: options)
        let clips = ClipCodec(codec)
        let contextFrames = settings.contextFrames
        let videos = evaluation.saveVideos ? folder.appendingPathComponent(String(format: "eval_videos/step_%07d", step)) : nil
        let pixels = VideoMetricAccumulator(contextFrames: contextFrames, networks: networks)
        var latents = LatentMetricAccumulator()
        let batches = stride(from: 0, to: count, by: batchSize).map { Array($0..<Swift.min($0 + batchSize, count)) }
        let mine = group.map { RankShare.range(count: batches.count, rank: $0.rank, worldSize: $0.worldSize) } ?? batches.indices
        // Each batch's loss times its size, at the batch's index: summed in batch order
        // whichever rank computed it, so any number of processes gives one process's value.
        var weightedLosses = [Double](repeating: 0, count: batches.count)
        log("evaluating \(count) clips (" + (sampling
            ? "\(contextFrames) context + \(configuration.model.numFrames - contextFrames) generated frames, "
              + "\(options.steps) DDIM steps on the \(process.numTimesteps)-step process, \(options.mode.rawValue), "
            : "validation loss only: experiment.evaluation.metrics.evaluate is false, ") + "seed \(settings.seed))"
            + (group.map { " across \($0.worldSize) processes" } ?? "") + " …")
        for skipped in batches[..<mine.lowerBound] {
            try discardDraws(of: skipped.count, validation: validation, codec: codec, objective: objective,
                             sampler: sampling ? sampler : nil)
        }
        let bar = progress && isWriter ? ProgressBar("evaluate", total: mine.count) : nil
        for (done, indices) in batches[mine].enumerated() {
            let (video, actions) = try ClipBatcher(dataset: validation, batchSize: batchSize, seed: 0).stack(indices)
            let truth = try ClipCodec.signed(try video.to(device))
            func encoded() throws -> Tensor { try withNoGrad { try clips.encode(truth) } }
            let action = model.config.useAction ? try actions.to(device) : nil
            let denoiser: Denoiser = { x, t in try model(x, t: t, action: action) }
            // validation_step: the loss of the batch, on its own encoding.
            let lossLatents = try encoded()
            let batchLoss = try withNoGrad { try objective(denoiser, latents: lossLatents).item(Double.self) }
            weightedLosses[mine.lowerBound + done] = batchLoss * Double(indices.count)
            guard sampling else { bar?.update(done + 1); continue }
            // The sampling callback encodes the batch again (a second posterior sample).
            let zShaped = codec.encodingDraws ? try encoded() : lossLatents
            let sample = try withNoGrad {
                try sampler.sample(denoiser, shape: zShaped.shape, context: zShaped, contextFrames: contextFrames,
                                   frameByFrame: try model.frameByFrame(actions: action))
            }
            let names = indices.map { Self.clipName(validation, $0) }
            if latentOnly {
                try latents.add(prediction: sample, truth: zShaped, contextFrames: contextFrames)
            } else {
                let prediction = try clips.decode(sample)
                if let videos { try Self.saveClips(prediction: prediction, truth: truth, names: names, into: videos) }
                // The reference's evaluator takes max_batchsize clips at a time (memory only:
                // every metric is a mean over frames or pooled features).
                for start in stride(from: 0, to: indices.count, by: evaluation.metricBatchSize) {
                    let n = Swift.min(evaluation.metricBatchSize, indices.count - start)
                    try pixels.add(prediction: try prediction.narrow(dim: 0, start: start, length: n),
                                   truth: try truth.narrow(dim: 0, start: start, length: n), names: Array(names[start..<(start + n)]))
                }
                try look?(ScoredBatch(names: names, truth: truth, latents: zShaped, prediction: prediction))
            }
            bar?.update(done + 1)
        }
        if let group {
            weightedLosses = try group.sum(weightedLosses)
            if sampling {
                if latentOnly { try latents.gather(over: group) }
                else { try pixels.gather(over: group, names: (0..<count).map { Self.clipName(validation, $0) }) }
            }
        }
        var summary = MetricsSummary()
        if sampling {
            summary = latentOnly ? latents.summary(clips: count, contextFrames: contextFrames, frames: configuration.model.numFrames)
                                 : try pixels.summary()
        } else {
            summary.counts = [("clips", count)]
        }
        // Lightning's epoch value of the logged val_loss: the batch-size-weighted mean.
        summary.metrics.append(("val_loss", weightedLosses.reduce(0, +) / Double(count)))
        // The job's notes say which file is missing; the accumulator's own note for that metric goes.
        let missing = notes.compactMap { $0.components(separatedBy: " omitted:").first }
        summary.notes = (sampling ? notes : []) + summary.notes.filter { note in !missing.contains { note.hasPrefix($0 + " omitted:") } }
        return (summary, setup, options, batchSize)
    }

    /// The random draws a batch of `count` clips takes (the loss's encoding, timesteps and
    /// noise; then, with `sampler`, the sampling's encoding and the sampler's), made and dropped
    /// without a model: what a rank does for the batches another rank takes.
    func discardDraws(of count: Int, validation: ClipDataset, codec: LatentCodec, objective: DiffusionForcingLoss,
                      sampler: DiffusionForcingSampler?) throws {
        let frames = validation.clipLength
        let latentShape = [count, frames] + codec.latentShape(forFrame: validation.frameShape)
        try codec.discardEncodingDraws(frames: count * frames, of: validation.frameShape, device: device)
        try objective.discardDraws(latentShape: latentShape, device: device)
        guard let sampler else { return }
        try codec.discardEncodingDraws(frames: count * frames, of: validation.frameShape, device: device)
        try sampler.discardDraws(shape: latentShape, contextFrames: configuration.settings.contextFrames, device: device)
    }

    /// Upstream's eval_videos layout: all T frames, context included, at 3 fps, and raw_data.npz
    /// with `pred` and `gt` `[3, T, H, W]` in [0, 1].
    static func saveClips(prediction: Tensor, truth: Tensor, names: [String], into folder: URL) throws {
        for (i, name) in names.enumerated() {
            let clipFolder = folder.appendingPathComponent(name)
            try Folder.create(clipFolder)
            let p = try ((prediction.select(dim: 0, index: i) + 1.0) / 2.0).to(.cpu)
            let g = try ((truth.select(dim: 0, index: i) + 1.0) / 2.0).to(.cpu)
            try MP4Writer.write(try RGBImage.frames(from: p), fps: 3, to: clipFolder.appendingPathComponent("pred_video.mp4"))
            try MP4Writer.write(try RGBImage.frames(from: g), fps: 3, to: clipFolder.appendingPathComponent("gt_video.mp4"))
            try NumpyArchive.write([("pred", try p.permute(1, 0, 2, 3)), ("gt", try g.permute(1, 0, 2, 3))],
                                   to: clipFolder.appendingPathComponent("raw_data.npz").path)
        }
    }

    func write(_ summary: MetricsSummary, setup: SamplingSetup, options: SamplingOptions, clips: Int, batchSize: Int,
               codec: LatentCodec) throws {
        let settings = configuration.settings
        let codecFile = configuration.experiment.codec.torchscript
        var entries: [(name: String, value: Any)] = [
            ("command", "nanowm evaluate"), ("checkpoint", checkpoint), ("checkpoint_file", try FileFingerprint.of(checkpoint)),
            ("latent_codec", configuration.codecKind),
            ("latent_codec_file", try codecFile.map { "\($0) (\(try FileFingerprint.of($0)))" } as Any),
            ("dataset", configuration.dataset.name), ("validation_clips", clips),
            ("validation_selection", ValidationSubset.selectionText(configuration.dataset.loader)),
        ]
        for (key, value) in configuration.dataset.loader.fixedSubsetAsWritten { entries.append((key, ConfigYAML.flowText(value))) }
        entries += [
            ("n_context_frames", settings.contextFrames), ("num_frames", configuration.model.numFrames),
            ("sampling_steps", options.steps), ("diffusion_steps", setup.diffusionSteps),
            ("timestep_grid", "float32 linspace(-1, \(setup.diffusionSteps - 1), steps+1) truncated, on the full process (upstream's evaluation)"),
            ("scheduling_mode", options.mode.rawValue), ("history_stabilization_level", options.historyStabilization),
            ("eta", options.eta), ("pred_name", settings.target.rawValue), ("seed", Int(settings.seed)), ("batch_size", batchSize),
            ("cached_sampling", options.cachedCausal && options.mode == .sequential && configuration.model.causal),
            ("aggregation", "mean over predicted frames (upstream's mean of batch means when batches are equal); "
                + "val_loss: batch-size-weighted mean of the batches' losses (Lightning's epoch value)"),
            ("sampled_clip_metrics", settings.sampledClipMetrics),
            ("seeding", "the reference's evaluate task: seed_everything(seed), then the model's initialisation, the codec probe, "
                + (settings.sampledClipMetrics && codec.hasDecoder ? "the metric networks' construction, " : "")
                + "the DataLoader's base seed; per batch the validation loss's draws"
                + (settings.sampledClipMetrics ? ", then the sampling's" : "")),
        ]
        let evaluation = configuration.experiment.evaluation
        entries += try [("lpips", evaluation.lpipsFile), ("inception", evaluation.inceptionFile), ("i3d", evaluation.i3dFile)].map { name, path in
            return (name + "_network", try path.flatMap { FileManager.default.fileExists(atPath: $0) ? "\($0) (\(try FileFingerprint.of($0)))" : nil } as Any)
        }
        entries += [("torch_version", Torch.version), ("device", "\(device)")]
        try MetricsFile(summary: summary, settings: entries).write(to: folder.appendingPathComponent("metrics.json").path)
        if let psnr = summary.perFrame.first(where: { $0.name == "psnr" }), !psnr.values.isEmpty {
            var plot = LinePlot(title: "PSNR per predicted frame", xLabel: "frame", yLabel: "PSNR (dB)",
                                series: [.init(name: "model", values: psnr.values, color: (31, 119, 180))])
            plot.xStart = settings.contextFrames
            try PNGEncoder.write(try plot.render(), to: folder.appendingPathComponent("metrics_per_frame.png"))
        }
    }
}

extension EvaluationJob {
    /// The evaluate task of a checked plan, in its run folder: the checkpoint is `checkpoint`
    /// (the one training just wrote) or experiment.resume_from_checkpoint, as upstream's
    /// evaluation reads it. The folder is created only once everything is checked, and removed
    /// again (when this created it) if the evaluation fails. With a process group, rank 0
    /// creates the folder and any missing data while the others wait, and alone logs.
    @discardableResult
    public static func run(plan: RunPlan, checkpoint: String? = nil, device: Device = .cpu, group: ProcessGroup? = nil,
                           progress: Bool = true, log: @escaping (String) -> Void = { print($0) }) throws -> MetricsSummary {
        let key = ExperimentSettings.resumeKey
        guard let path = checkpoint ?? plan.requestedCheckpoint else {
            throw ConfigError(.missingConfig, plan.configuration.experiment.resumeFrom == ExperimentSettings.resumeLatest
                ? "\(key)=latest: \(plan.folder.path) holds no checkpoint yet; pass \(key)=PATH"
                : "the evaluate task needs the checkpoint to evaluate: pass \(key)=PATH (a .ckpt, .pt or .safetensors)")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(.invalidValue, "\(key): no file at \(path); give the path of a checkpoint")
        }
        let folder = plan.folder
        let writer = (group?.rank ?? 0) == 0
        let log = writer ? log : { _ in }
        let job = EvaluationJob(configuration: plan.configuration, checkpoint: path, folder: folder, device: device, group: group, log: log)
        // The networks are checked before anything is written.
        var notes: [String] = []
        let networks = plan.codec.hasDecoder ? try job.networks(notes: &notes) : MetricNetworks()
        let created = writer ? TrainingJob.outermostMissingFolder(folder) : nil
        do {
            if !writer { try group?.barrier() }
            if writer { _ = try RunDirectory(folder) }
            if writer, checkpoint == nil {
                try plan.composition.saveRunFiles(in: folder)
                log("run folder: \(folder.path)")
                if let ignored = plan.ignoredLine { log(ignored) }
            }
            var generated: ProgressBar?
            let validation = try plan.configuration.datasets(checked: plan.recordedSplits) { done, total in
                guard writer else { return }
                if generated == nil { generated = ProgressBar("data", total: total) }
                generated?.update(done)
            }.validation
            if writer { try group?.barrier() }
            let summary = try job.evaluate(codec: plan.codec, validation: validation, networks: networks, notes: notes,
                                      progress: progress && writer)
            guard writer else { return summary }
            for (name, value) in summary.metrics { log("  " + name.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: "%.6g", value)) }
            for note in summary.notes { log("  (\(note))") }
            log("metrics: \(folder.appendingPathComponent("metrics.json").path)")
            return summary
        } catch {
            if let created, checkpoint == nil { try? FileManager.default.removeItem(at: created) }
            throw error
        }
    }
}
