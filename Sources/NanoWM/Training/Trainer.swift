import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// Diffusion-forcing training of a NanoWM: AdamW under the reference's update rule
/// (`UpdateRule`: constant learning rate, gradient norm measured as the reference measures it;
/// warmup and clipping on request), gradient accumulation, bf16 autocast on CUDA, periodic validation
/// and checkpoints in upstream's run layout. Every random draw of training comes from the
/// default generator of the device it is made on (the CPU's, the training GPU's), whose states
/// the checkpoints keep, and batches depend only on the step, so a resumed run continues bit
/// for bit.
///
/// With a process group (data-parallel training) every rank builds the same global batch of
/// `batchSize × worldSize` clips and the same noise for it, and trains on its own block of
/// it; gradients are averaged across ranks before clipping and the step, so N processes
/// reproduce one process with N times the batch up to the order of floating-point sums.
/// Rank 0 alone validates, logs and writes checkpoints.
public final class Trainer {
    public let model: NanoWMModel
    public let settings: TrainingSettings
    public let optimizer: AdamW
    public let process: DiffusionProcess
    public let batches: ClipBatcher
    public let validation: ClipDataset?
    /// Frames ↔ latents for the training data (pixels, or a latent cache's encoder output).
    public let clips: ClipCodec
    public let run: RunDirectory
    public let device: Device
    /// The data-parallel group this trainer is one rank of (nil: a single process).
    public let group: ProcessGroup?
    /// Averages the gradients across the group during the last micro-batch's backward pass.
    private let gradientExchange: GradientExchange?
    public var rank: Int { group?.rank ?? 0 }
    public var worldSize: Int { group?.worldSize ?? 1 }
    /// Whether this process writes checkpoints, logs and progress (rank 0).
    public var isWriter: Bool { rank == 0 }
    public var logger: MetricsLogger?
    /// Run after each optimizer step and at each validation, in order (`TrainingCallback`).
    public var callbacks: [TrainingCallback] = []
    public private(set) var step = 0

    private let updateRule: UpdateRule
    private let objective: DiffusionForcingLoss
    /// The same batches as `batches`, decoded ahead on a background thread.
    private let prefetched: PrefetchingBatches
    /// Stop signals received while training (`fit`).
    private var stopSignals: StopSignalWatch?
    /// Whether a stop signal reached this run; in a data-parallel run, agreed by every rank at
    /// each step, so all stop after the same step.
    private var stopRequested = false
    private var synchronized = false

    public struct StepMetrics {
        public var loss: Double
        public var gradientNorm: Double
        public var learningRate: Double
    }

    public init(model: NanoWMModel, settings: TrainingSettings, train: ClipDataset, validation: ClipDataset?,
                clips: ClipCodec, run: RunDirectory, device: Device = .cpu, group: ProcessGroup? = nil) throws {
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
        self.clips = clips
        self.run = run
        self.device = device
        self.group = group
        let optimizer = try AdamW(model.parameters(), learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        self.optimizer = optimizer
        gradientExchange = try group.map { try GradientExchange(group: $0, parameters: optimizer.parameters) }
        process = try settings.makeProcess(device: device)
        // experiment.training.batch_size is per process, as upstream's; the batcher makes the global batch.
        batches = try ClipBatcher(dataset: train, batchSize: settings.batchSize * (group?.worldSize ?? 1), seed: settings.seed)
        prefetched = PrefetchingBatches(batches, share: group?.rank ?? 0, of: group?.worldSize ?? 1)
        updateRule = UpdateRule(settings: settings)
        objective = settings.objective(process: process)
    }

    // MARK: - One step

    /// Latents `[B, F, C, h, w]` of a batch of frames `[B, F, 3, H, W]`, block `share` of a
    /// global batch of `shares` blocks: a codec's own draws (an SD-VAE posterior sample) are
    /// made for the global batch, as one process makes them, so every rank stays in step for
    /// the timestep and noise draws and the latents do not depend on the world size.
    func encode(_ video: Tensor, share: Int, of shares: Int) throws -> Tensor {
        try withNoGrad { try clips.latents(ofDatasetClips: try video.to(device), share: share, of: shares) }
    }

    /// The loss of a batch. In training (no `generator`), the batch is this rank's block of the
    /// global batch: timesteps and noise are drawn for the whole global batch, as one process
    /// draws them, and this rank's block is cut out, so the draws do not depend on the world size.
    func loss(video: Tensor, actions: Tensor, generator: Generator? = nil) throws -> Tensor {
        let (share, shares) = generator == nil ? (rank, worldSize) : (0, 1)
        let x = try encode(video, share: share, of: shares)
        let action = model.config.useAction ? try actions.to(device) : nil
        let forward: Denoiser = { x, t in
            if let standIn = self.modelStandIn { return try standIn(x, t, action) }
            return try self.model(x, t: t, action: action)
        }
        return try objective(forward, latents: x, share: share, of: shares, generator: generator)
    }

    /// Replaces the model's forward pass `(x, t, action)` in `loss`, for tests that run the
    /// training and validation path on `meta`: libtorch has no meta kernel for the model's
    /// patch convolution, while everything around it (the codec, the draws, the objective) runs.
    var modelStandIn: ((Tensor, Tensor, Tensor?) throws -> Tensor)?

    /// One optimizer step over `gradientAccumulation` micro-batches, under the run's update
    /// rule (the reference's learning rate and gradient-norm handling unless asked otherwise).
    public func trainStep() throws -> StepMetrics {
        model.train()
        let accumulation = settings.gradientAccumulation
        let result = try optimizerStep(optimizer, rule: updateRule, step: step, microBatches: accumulation, loss: { micro in
            let (video, actions) = try prefetched.batch(atStep: step * accumulation + micro)
            return try self.loss(video: video, actions: actions)
        }, beforeLastBackward: { try gradientExchange?.arm() }, synchronize: { lossSum, norm in
            guard let group else { return (lossSum, norm) }
            return try synchronizeStep(group, lossSum: lossSum, norm: norm)
        }, apply: { loss, norm in
            // Every rank holds the same averaged values, so all decide alike.
            guard !loss.isFinite || !norm.isFinite else { return true }
            let what = "step \(step + 1): the loss is \(loss) and the gradient norm \(norm)"
            guard settings.skipNonFiniteSteps else {
                throw TrainingError("\(what); stopped before the update, so the weights and the last checkpoint stay finite "
                                    + "(check the data for NaN or infinite values; experiment.training.skip_nonfinite_steps=true skips such steps)")
            }
            if isWriter { FileHandle.standardError.write(Data("\nskipped \(what) (experiment.training.skip_nonfinite_steps)\n".utf8)) }
            return false
        })
        step += 1
        return StepMetrics(loss: result.loss, gradientNorm: result.gradientNorm, learningRate: result.learningRate)
    }

    /// Averages the gradients over the ranks and agrees on the reported loss and norm (their
    /// means, as Lightning's `sync_dist`) and on stopping (a signal reaches the ranks at slightly
    /// different times; all stop after the same step).
    private func synchronizeStep(_ group: ProcessGroup, lossSum: Double, norm: Double) throws -> (lossSum: Double, norm: Double) {
        try gradientExchange?.finish()
        let shared = try group.sum([lossSum, norm, stopSignals?.received != nil ? 1 : 0])
        if shared[2] > 0 { stopRequested = true }
        return (shared[0] / Double(group.worldSize), shared[1] / Double(group.worldSize))
    }

    /// Gives every rank rank 0's parameters and buffers (once, before the first step), as DDP
    /// does at construction.
    public func synchronizeWithRankZero() throws {
        guard let group, !synchronized else { return }
        try group.broadcast(model.parameters() + model.namedBuffers().map(\.1), from: 0)
        synchronized = true
    }

    /// Mean loss over the fixed validation subset with fixed noise (seeded apart from training's
    /// generators, on the model's device: `TrainingSettings.validationGenerator`). A codec's own
    /// draw (the SD-VAE's posterior sample) comes from the device's default generator; every
    /// default generator is put back afterwards (`GeneratorStates`), so validating never
    /// changes the training run, on CPU or GPU, and in a data-parallel run rank 0, which alone
    /// validates, stays in step.
    public func validationLoss() throws -> Double? {
        guard let validation, validation.count > 0 else { return nil }
        var sum = 0.0, batches = 0
        try validationBatchLosses { loss in
            sum += try loss.item(Double.self)
            batches += 1
        }
        return sum / Double(batches)
    }

    /// Hands each validation batch's loss (a scalar tensor on the model's device) to `body`.
    /// Apart from `validationLoss` so that tests can run the path on `meta`, whose tensors
    /// have no values to read.
    func validationBatchLosses(_ body: (Tensor) throws -> Void) throws {
        guard let validation, validation.count > 0 else { return }
        try GeneratorStates.preserving {
            model.eval()
            defer { model.train() }
            let generator = try settings.validationGenerator(device: device)
            let batcher = try ClipBatcher(dataset: validation, batchSize: settings.batchSize, seed: settings.seed)
            let indices = Array(0..<Swift.min(settings.validationSize ?? validation.count, validation.count))
            for start in stride(from: 0, to: indices.count, by: settings.batchSize) {
                let (video, actions) = try batcher.stack(Array(indices[start..<Swift.min(start + settings.batchSize, indices.count)]))
                try body(try withNoGrad { try loss(video: video, actions: actions, generator: generator) })
            }
        }
    }

    // MARK: - The loop

    /// Trains until `settings.maxSteps` (or `until`), validating, logging and checkpointing on
    /// schedule. A stop signal (Ctrl-C, SIGTERM, SIGUSR1) ends training after the current step:
    /// a checkpoint is saved and `StoppedBySignal` thrown, so the process exits non-zero and the
    /// same command continues the run.
    public func fit(until last: Int? = nil, showProgress: Bool = true) throws {
        let end = Swift.min(last ?? settings.maxSteps, settings.maxSteps)
        let watch = StopSignalWatch()
        (stopSignals, stopRequested) = (watch, false)
        defer {
            // The signals end the program at once again once training is over.
            watch.cancel()
            stopSignals = nil
        }
        try synchronizeWithRankZero()
        let bar = showProgress && isWriter ? ProgressBar("train", total: end, startingAt: step) : nil
        var recent: [Double] = []
        while step < end {
            // Alone, this process stops when it is signalled; in a group, when the group agreed to.
            if group == nil && watch.received != nil { stopRequested = true }
            if stopRequested { break }
            let metrics = try trainStep()
            if metrics.loss.isFinite { recent.append(metrics.loss) }
            if recent.count > 50 { recent.removeFirst() }
            for callback in callbacks { try callback.stepEnded(step, metrics: metrics) }
            bar?.update(step, status: String(format: "loss %.4f", recent.reduce(0, +) / Double(Swift.max(recent.count, 1))))
            if step % settings.logEvery == 0 || step == end {
                try logger?.scalar("train_loss", metrics.loss, step: step)
                try logger?.scalar("gradient_norm", metrics.gradientNorm, step: step)
                try logger?.scalar("lr-AdamW", metrics.learningRate, step: step)  // Lightning's LearningRateMonitor name
            }
            if isWriter && step % settings.validateEvery == 0 {
                if let loss = try validationLoss() { try logger?.scalar("val_loss", loss, step: step) }
                for callback in callbacks {
                    for (name, value) in try callback.validated(at: step).sorted(by: { $0.key < $1.key }) {
                        try logger?.scalar(name, value, step: step)
                    }
                    model.train()
                }
            }
            if isWriter && step % settings.latestCheckpointEvery == 0 { try saveCheckpoint(.latest) }
            if isWriter && step % settings.periodicCheckpointEvery == 0 { try saveCheckpoint(.acrossTimesteps) }
        }
        bar?.finish()
        prefetched.pause() // nothing reads ahead once training stops
        // A rank the group's agreement stopped, though the signal did not reach it, reports SIGTERM.
        let stoppedBy = stopRequested ? watch.received ?? SIGTERM : nil
        if isWriter {
            if let stoppedBy {
                let line = "\(StopSignalWatch.name(stoppedBy)): saving a checkpoint at step \(step)"
                FileHandle.standardError.write(Data("\n\(line)\n".utf8))
                logger?.text(line)
            }
            try saveCheckpoint(.latest)
            try logger?.flush()
        }
        if let stoppedBy {
            throw StoppedBySignal(signal: stoppedBy, message: "stopped by \(StopSignalWatch.name(stoppedBy)) after step \(step) of \(end)"
                                  + (isWriter ? ", its checkpoint saved in \(run.url.path)" : "")
                                  + "; the same command (same run folder) continues the run")
        }
    }

    // MARK: - Checkpoints

    /// Writes a Lightning-layout checkpoint (model, AdamW state, step, the states of the
    /// generators training draws from: `nanowm.rng_states`, see `restoreGenerators`) atomically.
    @discardableResult
    public func saveCheckpoint(_ kind: RunDirectory.CheckpointKind) throws -> URL {
        // A checkpoint of broken weights would replace the last good one.
        for (name, parameter) in model.namedParameters() where !(try parameter.isfinite().all().item(Bool.self)) {
            throw TrainingError("step \(step): parameter \(name) holds NaN or infinite values; no checkpoint written, the last one in \(run.checkpoints.path) stays")
        }
        var checkpoint = LightningCheckpoint(model: model.stateDict())
        checkpoint.globalStep = step
        checkpoint.epoch = step / batches.batchesPerEpoch
        checkpoint.optimizerStates = [try OptimizerState.pickle(optimizer)]
        checkpoint.lrSchedulers = [.dict(PickleDict([("last_epoch", .int(step)), ("_step_count", .int(step + 1)),
                                                     ("base_lrs", .list(PickleList([.float(settings.learningRate)])))]))]
        let states = try GeneratorStates.capture(Self.drawingDevices(device))
        checkpoint.extra = [("nanowm", .dict(PickleDict([
            ("rng_state", .tensor(TensorRef(states.states[0].state))),
            ("rng_states", .dict(PickleDict(states.states.map { ($0.device.description, .tensor(TensorRef($0.state))) }))),
            ("format", .int(2)),
        ])))]
        let url = try run.checkpointURL(kind, epoch: checkpoint.epoch, step: step)
        try checkpoint.write(to: url.path)
        try run.pruneLatest(keeping: url)
        return url
    }

    /// Continues a run from one of its checkpoints: weights, optimizer moments, step and the
    /// random generators, so the continuation equals an uninterrupted run. Returns notes for
    /// the log: a generator state the checkpoint holds for a device this run does not draw on
    /// (a GPU run's checkpoint fine-tuned on the CPU) is skipped, not refused, and said so.
    @discardableResult
    public func resume(from path: String) throws -> [String] {
        let checkpoint = try Checkpoint.open(path)
        try UpstreamWeights.load(checkpoint, into: model)
        guard let globalStep = checkpoint.root["global_step"]?.int else { throw CheckpointError(path, "has no global_step: not a training checkpoint") }
        if let optimizerState = checkpoint.root["optimizer_states"]?.items?.first {
            try OptimizerState.restore(optimizer, from: optimizerState, source: path)
        }
        let notes = try restoreGenerators(from: checkpoint.root["nanowm"], path: path)
        step = globalStep
        return notes
    }

    /// The devices whose default generators training draws from: the CPU and the training
    /// device. Nothing in this process draws on another GPU (a data-parallel rank r trains on
    /// cuda:r alone), so a checkpoint keeps no other device's state.
    static func drawingDevices(_ device: Device) -> [Device] {
        if case .cuda = device { return [.cpu, device] }
        return [.cpu]
    }

    /// Sets the default generators to a checkpoint's states. Format 2 keeps `rng_states`, one
    /// uint8 state per device name (`cpu`, `cuda:0`), beside format 1's `rng_state` (the CPU
    /// state, kept so that older readers still resume). A CUDA state goes to this run's own
    /// CUDA device, whatever its index: every rank of a data-parallel run draws the same
    /// numbers on its own device, so rank r continues from rank 0's cuda:0 state on cuda:r.
    private func restoreGenerators(from record: PickleValue?, path: String) throws -> [String] {
        guard let record else { return [] }
        var states: [(device: Device, state: Tensor)] = []
        if let entries = record["rng_states"]?.dict?.entries {
            for (key, value) in entries {
                guard let name = key.string, let device = try? Device(parsing: name), let tensor = value.tensor else {
                    throw CheckpointError(path, "nanowm.rng_states holds an entry that is not a device name (cpu, cuda:N) with a generator state tensor")
                }
                states.append((device, try tensor.load()))
            }
        } else if let rng = record["rng_state"]?.tensor {
            states = [(.cpu, try rng.load())]
        }
        var notes: [String] = []
        if let cpu = states.first(where: { $0.device == .cpu }) { try Generator.defaultCPU.setState(cpu.state) }
        let cudaStates = states.filter { $0.device != .cpu }
        if case .cuda = device {
            if let saved = cudaStates.first(where: { $0.device == device }) ?? (cudaStates.count == 1 ? cudaStates.first : nil) {
                try Generator.default(for: device).setState(saved.state)
            } else {
                let held = cudaStates.isEmpty ? "no GPU generator state (it was written by a CPU run or an older build)"
                    : "generator states for \(cudaStates.map(\.device.description).joined(separator: ", ")) but not \(device)"
                notes.append("the checkpoint holds \(held), so \(device)'s draws start from the run's seed and differ from an uninterrupted run's")
            }
        } else if !cudaStates.isEmpty {
            notes.append("the generator states of \(cudaStates.map(\.device.description).joined(separator: ", ")) in the checkpoint "
                         + "are not restored, as this run draws on \(device): the weights continue, the random draws do not repeat the GPU run's")
        }
        return notes
    }
}
