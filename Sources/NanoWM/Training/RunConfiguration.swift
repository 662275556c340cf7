import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore
import NanoWMFormats

/// What a composed configuration asks for, read once with upstream's key names: the model,
/// the training settings, the dataset and the latent codec. Anything this build cannot
/// provide yet (a dataset reader, an encoder) is an error naming the missing piece.
public struct RunConfiguration {
    public let config: ConfigNode
    /// Every setting of the configuration, decoded once.
    public let experiment: ExperimentSettings
    public let model: NanoWMConfig
    public let settings: TrainingSettings
    public var dataset: DatasetSettings { experiment.dataset }

    public init(_ config: ConfigNode) throws {
        self.config = config
        experiment = try ExperimentSettings(config)
        model = try Self.modelConfig(experiment)
        settings = try Self.trainingSettings(experiment)
    }

    /// The network: a size preset by `model.arch`, or explicit width/depth/heads/patch for custom sizes.
    static func modelConfig(_ e: ExperimentSettings) throws -> NanoWMConfig {
        let m = e.model
        guard let injection = ActionInjection(rawValue: m.actionInjection) else {
            throw ConfigError(.typeMismatch, "model.action_injection.type: unknown injection '\(m.actionInjection)' (use \(ActionInjection.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        // Upstream: action_dim = dataset.spec.action_dim × dataset.frame_interval.
        var actionDim: Int?
        if m.useAction {
            guard let perStep = e.dataset.actionDimension else {
                throw ConfigError(.missingConfig, "model.use_action=true needs dataset.spec.action_dim (the raw action width)")
            }
            actionDim = perStep * e.dataset.frameInterval
        }
        if let arch = m.arch, NanoWMConfig.variantNames.contains(arch) {
            let preset = try NanoWMConfig(variant: arch, inputSize: m.latentSize, inChannels: m.latentChannels, numFrames: m.numFrames,
                                          useAction: m.useAction, actionDim: actionDim, actionInjection: injection, causal: m.causal)
            try requireNoConflict(with: preset, arch: arch, m)
            return preset
        }
        let config = NanoWMConfig(inputSize: m.latentSize, patchSize: try m.custom(m.patchSize, "patch_size"), inChannels: m.latentChannels,
                                  hiddenSize: try m.custom(m.hiddenSize, "hidden_size"), depth: try m.custom(m.depth, "depth"),
                                  numHeads: try m.custom(m.numHeads, "num_heads"), mlpRatio: m.mlpRatio ?? 4,
                                  numFrames: m.numFrames, useAction: m.useAction, actionDim: actionDim, actionInjection: injection,
                                  causal: m.causal)
        try config.validate()
        return config
    }

    /// A size preset fixes width, depth, heads and patch; an explicit different value would be
    /// silently overridden, so it is an error.
    static func requireNoConflict(with preset: NanoWMConfig, arch: String, _ m: ModelSettings) throws {
        let fixed: [String: Double] = ["model.hidden_size": Double(preset.hiddenSize), "model.depth": Double(preset.depth),
                                       "model.num_heads": Double(preset.numHeads), "model.patch_size": Double(preset.patchSize),
                                       "model.mlp_ratio": preset.mlpRatio]
        for (key, given) in m.presetFixedValues {
            guard let value = fixed[key], let number = given.double, number != value else { continue }
            throw ConfigError(.invalidValue, "\(key)=\(ConfigYAML.flowText(given)) conflicts with model.arch=\(arch), which fixes it at \(ConfigYAML.flowText(value == value.rounded() ? .int(Int(value)) : .double(value))); drop the key or pick another arch")
        }
    }

    /// The training run's settings in the diffusion layer's types.
    static func trainingSettings(_ e: ExperimentSettings) throws -> TrainingSettings {
        var s = TrainingSettings()
        let t = e.training, d = e.diffusion
        s.learningRate = t.learningRate
        s.weightDecay = t.weightDecay
        s.warmupSteps = t.warmupSteps
        s.maxSteps = t.maxSteps
        s.batchSize = t.batchSize
        s.gradientAccumulation = t.gradientAccumulation
        s.gradientClipNorm = t.gradientClipNorm
        s.gradientClipStartStep = t.gradientClipStartStep
        s.applyWarmup = t.applyWarmup
        s.applyGradientClipping = t.applyGradientClipping
        s.skipNonFiniteSteps = t.skipNonFiniteSteps
        s.logEvery = t.logEvery
        s.validateEvery = t.validateEvery
        s.latestCheckpointEvery = t.latestCheckpointEvery
        s.periodicCheckpointEvery = t.periodicCheckpointEvery
        // Upstream truncates validation to validation_size only when no fixed subset is set.
        let loader = e.dataset.loader
        if loader.fixedSubsetPath == nil && loader.fixedSubsetSize == nil { s.validationSize = loader.validationSize }
        s.evaluationSamplingSteps = e.evaluation.samplingSteps
        s.sampledClipMetrics = e.evaluation.sampledClipMetrics
        guard let schedule = NoiseSchedule(rawValue: d.noiseSchedule) else {
            throw ConfigError(.typeMismatch, "experiment.diffusion.noise_schedule: unknown schedule '\(d.noiseSchedule)' (use linear or squaredcos_cap_v2)")
        }
        s.schedule = schedule
        s.diffusionSteps = d.diffusionSteps
        s.target = try named("experiment.diffusion.pred_name") { _ in try PredictionTarget(name: d.predictionName) }
        switch d.mode {
        case "diffusion_forcing": s.diffusionForcing = true
        case "full_seq_diffusion": s.diffusionForcing = false
        case let other: throw ConfigError(.typeMismatch, "experiment.diffusion.mode: unknown mode '\(other)' (use diffusion_forcing or full_seq_diffusion)")
        }
        s.snrGamma = d.snrGamma
        s.zeroTerminalSNR = d.zeroTerminalSNR
        s.timestepSampling = try named("experiment.diffusion.timestep_sampling") { _ in
            try TimestepSampling(name: d.timestepSampling, mean: d.logitNormalMean, std: d.logitNormalStd)
        }
        s.historyStabilization = d.historyStabilization
        s.mixedPrecision = e.mixedPrecision
        s.seed = UInt64(e.seed)
        s.contextFrames = e.model.contextFrames
        s.schedulingMode = try named("model.scheduling_mode") { _ in try SchedulingMode(name: e.model.schedulingMode) }
        s.samplingSteps = e.model.samplingSteps
        if let mode = e.evaluation.schedulingMode {
            s.evaluationSchedulingMode = try named("experiment.evaluation.scheduling_mode") { _ in try SchedulingMode(name: mode) }
        }
        return s
    }

    /// Reads a key with a parser of the diffusion layer, whose error is re-thrown as a config
    /// error naming the key.
    static func named<T>(_ key: String, _ parse: (String) throws -> T) throws -> T {
        do { return try parse(key) } catch let error as DiffusionError {
            throw ConfigError(.typeMismatch, "\(key): \(error.description)")
        }
    }

    /// The latent codec `latent_codec.kind` names (upstream's default and legacy names
    /// included): the pixel codec, or a network exported once with scripts/export_codec.py and
    /// loaded from `latent_codec.torchscript`.
    public func codec(device: Device = .cpu) throws -> LatentCodec {
        try CodecLoader.load(kind: codecKind, file: experiment.codec.torchscript, fileSetting: CodecSettings.torchscriptKey, device: device)
    }

    /// The run's codec around pixels, an SD-VAE with the `vae.*` weights of `checkpoint` when
    /// it has them, as upstream's sampling loads it.
    public func pixelSpace(checkpoint: String, device: Device) throws -> PixelSpace {
        try PixelSpace(codec: try codec(device: device), checkpoint: checkpoint)
    }

    /// `latent_codec.kind`, else the legacy `latent_codec.name`, else `sd_vae`; `vae` means `sd_vae`.
    public var codecKind: String { experiment.codec.kind }

    /// The datasets this build can read.
    public static let datasetReaders = ["builtin_wall", "point_maze", "wall", "pusht", "rope", "granular", "csgo", "rt1"]

    /// Throws unless this build has a reader for `dataset.name`.
    func requireDatasetReader() throws {
        let name = dataset.name
        guard Self.datasetReaders.contains(name) else {
            throw ConfigError(.missingConfig, "dataset '\(name)' has no reader in this build yet (available: \(Self.datasetReaders.joined(separator: ", "))); use dataset=builtin/wall")
        }
    }

    /// Whether `dataset.name` is one of upstream's recorded datasets (not the built-in one).
    func isRecorded() throws -> Bool { RecordedDatasets.names.contains(dataset.name) }

    /// The built-in dataset's generator settings (only the built-in dataset has them).
    public func builtinSettings() throws -> BuiltinDatasetSettings {
        guard let builtin = dataset.builtin else {
            throw ConfigError(.missingConfig, "dataset '\(dataset.name)' is not the built-in one (dataset.name=\(DatasetSettings.builtinName))")
        }
        return builtin
    }

    /// Train and validation clips of the configured dataset, generating the built-in
    /// environment's data on first use. The validation clips are already the fixed subset
    /// (`validation_fixed_subset_*`, its file in `runDirectory` by default) or the first
    /// `validation_size` clips, as upstream validates on them (`ValidationSubset.choice`).
    /// `checked`: a recorded dataset's splits as `checkParts` opened them, completed instead of
    /// opened again.
    public func datasets(runDirectory: URL? = nil, checked: RecordedDatasets.CheckedSplits? = nil,
                         progress: ((Int, Int) -> Void)? = nil) throws -> (train: ClipDataset, validation: ClipDataset) {
        try requireDatasetReader()
        if try isRecorded() {
            let recorded = try RecordedDatasets(dataset, checked: checked, runDirectory: runDirectory, progress: progress)
            return (recorded.train, recorded.validation)
        }
        let builtin = try builtinSettings()
        let store = try WallDataGenerator.generate(into: URL(fileURLWithPath: builtin.directory), episodes: builtin.trajectories,
                                                   length: builtin.trajectoryLength, resolution: builtin.resolution,
                                                   seed: UInt64(builtin.seed), progress: progress)
        let split = try TrajectoryDataset.split(store, clipLength: model.numFrames, frameSkip: dataset.frameInterval,
                                                validationFraction: 1 - (dataset.loader.splitRatio ?? 0.9))
        let all = split.validation.slices
        switch try ValidationSubset.choice(dataset, runDirectory: runDirectory, slices: { all }) {
        case .first(let limit):
            guard let limit, limit < all.count else { return (split.train, split.validation) }
            return (split.train, try split.validation.selecting(Array(0..<limit)))
        case .subset(let slices, _):
            let position = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1, $0) })
            return (split.train, try split.validation.selecting(slices.compactMap { position[$0] }))
        }
    }

    /// `dataset.latent_cache`: the folder of the codec's cached encoder output, or nil.
    public func latentCachePath() throws -> URL? { dataset.latentCache.map { URL(fileURLWithPath: $0) } }

    /// The datasets' clips through the latent cache (when `dataset.latent_cache` is set), whose
    /// clips hold the codec's encoder output; nil without a cache.
    public func cachedTraining(_ train: ClipDataset, _ validation: ClipDataset, codec: LatentCodec) throws
        -> (train: ClipDataset, validation: ClipDataset, clips: ClipCodec, cache: LatentCache)? {
        guard let path = try latentCachePath() else { return nil }
        guard let train = train as? TrajectoryDataset, let validation = validation as? TrajectoryDataset else {
            throw ConfigError(.unsupported, "dataset.latent_cache: this dataset cannot read a latent cache")
        }
        let cache = try LatentCache(directory: path, codec: codec, store: train.store)
        return (try train.reading(cache), try validation.reading(cache), ClipCodec(codec, datasetClips: .cachedEncoderOutput), cache)
    }

    /// `nanowm encode-dataset`: encodes every episode of the configured dataset with the
    /// configured codec into `dataset.latent_cache`.
    public func buildLatentCache(progress: ((Int, Int) -> Void)? = nil) throws -> LatentCache {
        guard let path = try latentCachePath() else {
            throw ConfigError(.missingConfig, "set dataset.latent_cache=PATH: the folder the encoded dataset goes to")
        }
        let checked = try checkParts()
        guard let train = try datasets(checked: checked.recordedSplits).train as? TrajectoryDataset else {
            throw ConfigError(.unsupported, "dataset.latent_cache: this dataset cannot be cached")
        }
        return try LatentCache.build(from: train.store, codec: checked.codec, into: path, progress: progress)
    }

    /// Checks, before anything is written, that the dataset, codec and model fit together:
    /// a reader and a codec exist, the codec turns the dataset's frames into the latents the
    /// model takes (probed on a random frame, as upstream probes it), clips fit in an episode
    /// and the actions have the model's width. Returns the loaded codec and a recorded
    /// dataset's checked splits, for the run to complete rather than open again.
    @discardableResult
    public func checkParts() throws -> (codec: LatentCodec, recordedSplits: RecordedDatasets.CheckedSplits?) {
        try requireDatasetReader()
        if experiment.evaluation.saveVideos, !MP4Writer.isAvailable {
            throw ConfigError(.unsupported, "experiment.evaluation.save_videos=true writes MP4 videos, which this portable nanowm cannot (it leaves out OpenCV and FFmpeg); set experiment.evaluation.save_videos=false, or run a full build")
        }
        let recorded = try isRecorded()
        var splits: RecordedDatasets.CheckedSplits?
        if recorded { splits = try RecordedDatasets.preflight(dataset) } else { try requireBuiltinLoaderDefaults() }
        let codec = try self.codec()
        let resolution = recorded ? try RecordedDatasets.imageSize(dataset).height : try builtinSettings().resolution
        let frame = [3, resolution, resolution]
        let latent = codec.latentShape(forFrame: frame)
        let expected = [model.inChannels, model.inputSize, model.inputSize]
        let codecName = experiment.codec.kindAsWritten
        guard latent == expected else {
            throw ConfigError(.invalidValue, "shape mismatch: latent_codec=\(codecName) turns \(Self.shapeText(frame)) frames (dataset.resolution \(resolution)) into \(Self.shapeText(latent)) latents, but the model takes \(Self.shapeText(expected)) (model.latent_channels × model.latent_size²); set model.latent_channels=\(latent[0]) model.latent_size=\(latent[1]), or dataset.resolution to match")
        }
        if let channels = experiment.codec.latentChannels, channels != latent[0] {
            throw ConfigError(.invalidValue, "latent_codec.latent_channels is \(channels) but latent_codec=\(codecName) gives \(latent[0]) channels; set latent_codec.latent_channels=\(latent[0])")
        }
        try checkExportedSettings(codec)
        try probe(codec, frame: frame, latent: latent)
        if !recorded, let imageSize = dataset.imageSize?.height, imageSize != resolution {
            throw ConfigError(.invalidValue, "model.image_size is \(imageSize) but the dataset's frames are \(resolution)×\(resolution) (dataset.resolution); set model.image_size=\(resolution) or dataset.resolution=\(imageSize)")
        }
        if let ratio = dataset.loader.splitRatio, !(ratio > 0 && ratio < 1) {
            throw ConfigError(.invalidValue, "dataset.loader.split_ratio=\(ratio) must lie strictly between 0 and 1 (the training share of the episodes)")
        }
        guard settings.contextFrames < model.numFrames else {
            throw ConfigError(.invalidValue, "model.n_context_frames=\(settings.contextFrames) leaves nothing to predict in model.num_frames=\(model.numFrames) frames")
        }
        guard !recorded else { return (codec, splits) } // the recorded datasets' own checks ran above
        let span = model.numFrames * dataset.frameInterval, length = try builtinSettings().trajectoryLength
        guard span <= length else {
            throw ConfigError(.invalidValue, "clips of model.num_frames=\(model.numFrames) frames every dataset.frame_interval=\(dataset.frameInterval) need \(span) steps, but dataset.trajectory_length is \(length)")
        }
        if model.useAction, let declared = dataset.actionDimension, declared != WallEnvironment.actionDimension {
            throw ConfigError(.invalidValue, "dataset.spec.action_dim is \(declared) but the built-in wall environment has \(WallEnvironment.actionDimension)-D actions; set dataset.spec.action_dim=\(WallEnvironment.actionDimension)")
        }
        return (codec, splits)
    }

    /// Loader settings the built-in dataset cannot honour (its clips start at every frame,
    /// its actions are used as recorded, it holds out the last episodes) are refused there.
    func requireBuiltinLoaderDefaults() throws {
        let loader = dataset.loader
        let given: [(String, ConfigNode?, [ConfigNode], String)] = [
            ("normalize_action", loader.normalizeAction.map(ConfigNode.bool), [false], "actions are used as recorded"),
            ("stride", loader.stride.map(ConfigNode.int), [1], "clips start at every frame"),
            ("train_slice_mode", loader.trainSliceMode.map(ConfigNode.string), ["exhaustive"], "clips start at every frame"),
            ("val_slice_mode", loader.validationSliceMode.map(ConfigNode.string), ["exhaustive"], "clips start at every frame"),
            ("action_scale", loader.actionScale.map(ConfigNode.double), [1], "actions are used as recorded"),
            ("use_relative_actions", loader.useRelativeActions.map(ConfigNode.bool), [false], "actions are used as recorded"),
            ("n_rollout", loader.rollouts.map { $0.rounded() == $0 && abs($0) < 1e15 ? .int(Int($0)) : .double($0) }, [], "set dataset.num_trajectories")]
        for (name, value, allowed, instead) in given {
            guard let value, !allowed.contains(where: { KeyPolicy.sameValue($0, value) }) else { continue }
            let shown = allowed.isEmpty ? "null" : allowed.map { ConfigYAML.flowText($0) }.joined(separator: " or ")
            throw ConfigError(.unsupported, "dataset.loader.\(name)=\(ConfigYAML.flowText(value)) is not supported by the built-in dataset (only \(shown)); \(instead)")
        }
    }

    /// `3×64×64`.
    static func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

    /// `latent_codec.input_size`/`patch_size` (when set) must be what the exported file was made with.
    func checkExportedSettings(_ codec: LatentCodec) throws {
        guard let semantic = codec as? SemanticCodec else { return }
        let exported = [("input_size", semantic.file.inputSize ?? 0, experiment.codec.inputSize),
                        ("patch_size", semantic.file.downsample, experiment.codec.patchSize)]
        for (name, value, configured) in exported {
            if let configured, configured != value {
                throw ConfigError(.invalidValue, "latent_codec.\(name) is \(configured) but \(semantic.file.module.path) was exported with \(value); set latent_codec.\(name)=\(value) or export the encoder again")
            }
        }
    }

    /// Upstream's codec probe: a random frame is encoded (and decoded when the codec can),
    /// and the shapes and values must be what the model expects. Every default generator is
    /// restored afterwards (the codec's own draws are on its device), so the probe never
    /// changes a seeded run.
    func probe(_ codec: LatentCodec, frame: [Int], latent: [Int]) throws {
        try GeneratorStates.preserving { try unpreservedProbe(codec, frame: frame, latent: latent) }
    }

    private func unpreservedProbe(_ codec: LatentCodec, frame: [Int], latent: [Int]) throws {
        let name = codecKind
        let encoded = try withNoGrad { try codec.encode(signed: try ClipCodec.signed(try Tensor.rand([1] + frame))) }
        guard encoded.shape == [1] + latent, try encoded.isfinite().all().item(Bool.self) else {
            throw ConfigError(.invalidValue, "latent_codec=\(name) probe: a \(Self.shapeText(frame)) frame gave latents \(encoded.shape) (finite: \(try encoded.isfinite().all().item(Bool.self))), expected \(Self.shapeText(latent))")
        }
        guard codec.hasDecoder else { return }
        let decoded = try withNoGrad { try codec.decodeToSigned(encoded) }
        guard decoded.shape == [1] + frame, try decoded.isfinite().all().item(Bool.self) else {
            throw ConfigError(.invalidValue, "latent_codec=\(name) probe: decoding gave \(decoded.shape), expected \(Self.shapeText(frame))")
        }
    }
}
