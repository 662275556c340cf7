import Foundation
import SwiftTorch

/// Diffusion-forcing training of a NanoWM: AdamW with linear warmup, gradient clipping from
/// `gradientClipStartStep`, gradient accumulation, bf16 autocast on CUDA, periodic validation
/// and checkpoints in upstream's run layout. Every random draw of training comes from the
/// global generator, whose state the checkpoints keep, and batches depend only on the step,
/// so a resumed run continues bit for bit.
public final class Trainer {
    public let model: NanoWMModel
    public let settings: TrainingSettings
    public let optimizer: AdamW
    public let process: DiffusionProcess
    public let batches: ClipBatcher
    public let validation: ClipDataset?
    public let codec: LatentCodec
    public let run: RunDirectory
    public let device: Device
    public var logger: MetricsLogger?
    /// Called after each optimizer step with its step number and metrics.
    public var onStep: ((Int, StepMetrics) -> Void)?
    /// Called at every validation with the step; returns named metrics to log (e.g. PSNR and
    /// SSIM of sampled clips on a fixed validation subset).
    public var evaluate: ((Int) throws -> [String: Double])?
    public private(set) var step = 0

    private let schedule: ConstantWithWarmup
    /// The same batches as `batches`, decoded ahead on a background thread.
    private let prefetched: PrefetchingBatches
    private var interrupted = false
    private var signalSource: DispatchSourceSignal?

    public struct StepMetrics {
        public var loss: Double
        public var gradientNorm: Double
        public var learningRate: Double
    }

    public init(model: NanoWMModel, settings: TrainingSettings, train: ClipDataset, validation: ClipDataset?,
                codec: LatentCodec, run: RunDirectory, device: Device = .cpu) throws {
        try settings.validate()
        guard train.clipLength == model.config.numFrames else {
            throw ConfigError(.invalidValue, "the dataset gives \(train.clipLength)-frame clips but the model takes \(model.config.numFrames) frames (model.num_frames)")
        }
        if model.config.useAction, let dim = model.config.actionDim, dim != train.actionDimension {
            throw ConfigError(.invalidValue, "the dataset's actions have \(train.actionDimension) dimensions but the model expects \(dim)")
        }
        self.model = model
        self.settings = settings
        self.validation = validation
        self.codec = codec
        self.run = run
        self.device = device
        optimizer = try AdamW(model.parameters(), learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        process = try settings.makeProcess(device: device)
        batches = try ClipBatcher(dataset: train, batchSize: settings.batchSize, seed: settings.seed)
        prefetched = PrefetchingBatches(batches)
        schedule = ConstantWithWarmup(warmupSteps: settings.warmupSteps)
    }

    // MARK: - One step

    /// Latents `[B, F, C, h, w]` of a batch of frames `[B, F, 3, H, W]`.
    func encode(_ video: Tensor) throws -> Tensor {
        let (b, f) = (video.shape[0], video.shape[1])
        let latents = try withNoGrad { try codec.encode(try video.flatten(start: 0, end: 1).to(device)) }
        return try latents.reshape([b, f] + Array(latents.shape[1...]))
    }

    func loss(video: Tensor, actions: Tensor, generator: Generator? = nil) throws -> Tensor {
        let x = try encode(video)
        let shape = settings.diffusionForcing ? [x.shape[0], x.shape[1]] : [x.shape[0]]
        let t = try settings.timestepSampling.sample(shape, timesteps: settings.diffusionSteps, device: device, generator: generator)
        let noise = try Tensor.randn(x.shape, device: device, generator: generator)
        let action = model.config.useAction ? try actions.to(device) : nil
        let terms = try withAutocast(.cuda, enabled: settings.mixedPrecision && device != .cpu) {
            try process.trainingLosses({ try self.model($0, t: $1, action: action) }, x0: x, t: t, noise: noise)
        }
        return try terms.loss.mean()
    }

    /// One optimizer step over `gradientAccumulation` micro-batches.
    public func trainStep() throws -> StepMetrics {
        model.train()
        let accumulation = settings.gradientAccumulation
        var total = 0.0
        for micro in 0..<accumulation {
            let (video, actions) = try prefetched.batch(atStep: step * accumulation + micro)
            let loss = try self.loss(video: video, actions: actions)
            try (accumulation > 1 ? loss / Double(accumulation) : loss).backward()
            total += try loss.item(Double.self)
        }
        // Upstream measures the norm from the start but clips only from the configured step.
        let norm = try clipGradNorm(optimizer.parameters, maxNorm: settings.gradientClipNorm,
                                    clip: step >= settings.gradientClipStartStep).item(Double.self)
        optimizer.learningRate = schedule.learningRate(base: settings.learningRate, step: step)
        try optimizer.step()
        try optimizer.zeroGrad()
        step += 1
        return StepMetrics(loss: total / Double(accumulation), gradientNorm: norm, learningRate: optimizer.learningRate)
    }

    /// Mean loss over the fixed validation subset with fixed noise (seeded apart from training's
    /// generator, so validating never changes the training run).
    public func validationLoss() throws -> Double? {
        guard let validation, validation.count > 0 else { return nil }
        model.eval()
        defer { model.train() }
        let generator = try Generator(seed: settings.seed &+ 1)
        let batcher = try ClipBatcher(dataset: validation, batchSize: settings.batchSize, seed: settings.seed)
        let indices = Array(0..<Swift.min(settings.validationSize ?? validation.count, validation.count))
        var sum = 0.0, batches = 0
        for start in stride(from: 0, to: indices.count, by: settings.batchSize) {
            let (video, actions) = try batcher.stack(Array(indices[start..<Swift.min(start + settings.batchSize, indices.count)]))
            sum += try withNoGrad { try loss(video: video, actions: actions, generator: generator).item(Double.self) }
            batches += 1
        }
        return sum / Double(batches)
    }

    // MARK: - The loop

    /// Trains until `settings.maxSteps` (or `until`), validating, logging and checkpointing on
    /// schedule. Ctrl-C stops after the current step and saves a checkpoint.
    public func fit(until last: Int? = nil, showProgress: Bool = true) throws {
        let end = Swift.min(last ?? settings.maxSteps, settings.maxSteps)
        installInterruptHandler()
        defer {
            // Ctrl-C means "stop the program" again once training is over.
            signalSource?.cancel()
            signalSource = nil
            signal(SIGINT, SIG_DFL)
        }
        let bar = showProgress ? ProgressBar("train", total: end, startingAt: step) : nil
        var recent: [Double] = []
        while step < end && !interrupted {
            let metrics = try trainStep()
            recent.append(metrics.loss)
            if recent.count > 50 { recent.removeFirst() }
            onStep?(step, metrics)
            bar?.update(step, status: String(format: "loss %.4f", recent.reduce(0, +) / Double(recent.count)))
            if step % settings.logEvery == 0 || step == end {
                try logger?.scalar("train_loss", metrics.loss, step: step)
                try logger?.scalar("gradient_norm", metrics.gradientNorm, step: step)
                try logger?.scalar("lr", metrics.learningRate, step: step)
            }
            if step % settings.validateEvery == 0 {
                if let loss = try validationLoss() { try logger?.scalar("val_loss", loss, step: step) }
                if let evaluate {
                    for (name, value) in try evaluate(step) { try logger?.scalar(name, value, step: step) }
                    model.train()
                }
            }
            if step % settings.latestCheckpointEvery == 0 { try saveCheckpoint(.latest) }
            if step % settings.periodicCheckpointEvery == 0 { try saveCheckpoint(.acrossTimesteps) }
        }
        bar?.finish()
        prefetched.pause() // nothing reads ahead once training stops
        if interrupted { FileHandle.standardError.write(Data("\ninterrupted: saving a checkpoint at step \(step)\n".utf8)) }
        try saveCheckpoint(.latest)
        try logger?.flush()
    }

    private func installInterruptHandler() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in self?.interrupted = true }
        source.resume()
        signalSource = source
    }

    // MARK: - Checkpoints

    /// Writes a Lightning-layout checkpoint (model, AdamW state, step, RNG state) atomically.
    @discardableResult
    public func saveCheckpoint(_ kind: RunDirectory.CheckpointKind) throws -> URL {
        var checkpoint = LightningCheckpoint(model: model.stateDict())
        checkpoint.globalStep = step
        checkpoint.epoch = step / batches.batchesPerEpoch
        checkpoint.optimizerStates = [try OptimizerState.pickle(optimizer)]
        checkpoint.lrSchedulers = [.dict(PickleDict([("last_epoch", .int(step)), ("_step_count", .int(step + 1)),
                                                     ("base_lrs", .list(PickleList([.float(settings.learningRate)])))]))]
        checkpoint.extra = [("nanowm", .dict(PickleDict([
            ("rng_state", .tensor(TensorRef(try Generator.defaultCPU.state()))),
            ("format", .int(1)),
        ])))]
        let url = try run.checkpointURL(kind, epoch: checkpoint.epoch, step: step)
        try checkpoint.write(to: url.path)
        try run.pruneLatest(keeping: url)
        return url
    }

    /// Continues a run from one of its checkpoints: weights, optimizer moments, step and the
    /// random generator, so the continuation equals an uninterrupted run.
    public func resume(from path: String) throws {
        let checkpoint = try Checkpoint.open(path)
        try UpstreamWeights.load(checkpoint, into: model)
        guard let globalStep = checkpoint.root["global_step"]?.int else { throw CheckpointError(path, "has no global_step: not a training checkpoint") }
        if let optimizerState = checkpoint.root["optimizer_states"]?.items?.first {
            try OptimizerState.restore(optimizer, from: optimizerState, source: path)
        }
        if let rng = checkpoint.root["nanowm"]?["rng_state"]?.tensor {
            try Generator.defaultCPU.setState(try rng.load())
        }
        step = globalStep
    }
}
