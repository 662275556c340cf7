import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// A checkpoint together with the training configuration it was trained under, so that the
/// commands that load it (`sample`, `rollout`, `forward`, `codec`, planning) build the model and
/// sample as the run trained it: the nearest `config.yaml` at or above the checkpoint's folder
/// (a run folder's, or a release folder's beside its `model.safetensors`), or a file the user
/// names. Without one, the architecture is inferred from the weights and the commands say which
/// defaults they assume.
public struct TrainedCheckpoint {
    public let path: String
    /// The training configuration, resolved for its run folder; nil when none was found.
    public let configuration: RunConfiguration?
    /// Where `configuration` came from.
    public let configFile: URL?

    /// - Parameter configFile: a training `config.yaml` the user names; it must exist.
    public init(_ path: String, configFile: String? = nil) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError(path, "no such file") }
        self.path = path
        if let configFile {
            let url = URL(fileURLWithPath: configFile)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ConfigError(.missingConfig, "--config: no file at \(configFile)")
            }
            (configuration, self.configFile) = (try Self.read(url), url)
        } else if let found = Self.nearestConfig(above: path) {
            (configuration, self.configFile) = (try Self.read(found), found)
        } else {
            (configuration, self.configFile) = (nil, nil)
        }
    }

    /// The first `config.yaml` in the checkpoint's folder or a folder above it.
    static func nearestConfig(above checkpoint: String) -> URL? {
        var folder = URL(fileURLWithPath: checkpoint).standardizedFileURL.deletingLastPathComponent()
        while true {
            let candidate = folder.appendingPathComponent("config.yaml")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            let parent = folder.deletingLastPathComponent()
            guard parent.path != folder.path else { return nil }
            folder = parent
        }
    }

    /// A training `config.yaml`, resolved for its folder (with the group choices of the run's
    /// `.hydra/hydra.yaml` when present, for `${hydra:runtime.choices…}`).
    static func read(_ file: URL) throws -> RunConfiguration {
        do {
            return try RunConfiguration(try ConfigNode.savedRun(file))
        } catch {
            throw DataError("\(file.path): the checkpoint's training config cannot be read: \(error)")
        }
    }

    /// Settings a command line may give for the model; nil takes the run's.
    public struct ModelChoices {
        public var causal: Bool?
        public var injection: ActionInjection?
        public init(causal: Bool? = nil, injection: ActionInjection? = nil) { (self.causal, self.injection) = (causal, injection) }
    }

    /// Settings a command line may give for sampling; nil takes the run's (or the command's
    /// default, `SamplingDefaults`).
    public struct SamplingChoices {
        public var steps: Int?
        public var mode: SchedulingMode?
        public var historyStabilization: Double?
        public var eta = 0.0
        public var target: PredictionTarget?
        public var schedule: NoiseSchedule?
        public var zeroTerminalSNR: Bool?
        /// Cached causal sampling where it applies (`SamplingOptions.cachedCausal`).
        public var cachedCausal = true
        public init() {}
    }

    /// What a command samples with where neither the command line nor its own rule sets it:
    /// nil steps or mode take the run's (`experiment.evaluation.*`, else `model.*`), as the
    /// evaluation samples; the reference's rollout script sets its own (50 sequential steps).
    public struct SamplingDefaults {
        public var steps: Int?
        public var mode: SchedulingMode?
        public init(steps: Int? = nil, mode: SchedulingMode? = nil) { (self.steps, self.mode) = (steps, mode) }
    }

    /// Thrown for a command-line setting that contradicts the run's training configuration.
    func contradiction(_ flag: String, _ given: String, key: String, trained: String) -> ConfigError {
        ConfigError(.invalidValue, "\(flag) \(given) contradicts \(key): \(trained) in \(configFile?.path ?? "the training config") (how \(path) was trained); drop \(flag), or add --override-config to use it anyway")
    }

    /// The model the configuration describes (its causality and action injection included),
    /// with the checkpoint's weights; without a configuration, inferred from the weights
    /// (causal, additive injection for weightless action models, unless `choices` say otherwise).
    /// A choice that contradicts the configuration is refused unless `overriding`.
    public func model(_ choices: ModelChoices = ModelChoices(), overriding: Bool = false, device: Device = .cpu) throws -> NanoWMModel {
        guard let configuration else {
            return try NanoWMModel.load(checkpoint: path, causal: choices.causal ?? true,
                                        weightlessInjection: choices.injection ?? .additive, device: device)
        }
        var config = configuration.model
        if let causal = choices.causal, causal != config.causal {
            guard overriding else { throw contradiction("--causal", String(causal), key: "model.causal", trained: String(config.causal)) }
            config.causal = causal
        }
        if let injection = choices.injection, config.useAction, injection != config.actionInjection {
            guard overriding else {
                throw contradiction("--injection", injection.rawValue, key: "model.action_injection.type", trained: config.actionInjection.rawValue)
            }
            config.actionInjection = injection
        }
        do { return try CheckpointWeights.model(config, from: path, device: device).model } catch {
            throw CheckpointError(path, "does not fit the model its \(configFile?.path ?? "config.yaml") describes (\(config.summary)): \(error)")
        }
    }

    /// How to sample from this checkpoint: the run's prediction target, noise schedule, zero
    /// terminal SNR, diffusion steps and history stabilisation, the command's defaults for steps
    /// and scheduling mode (else the run's), on a process respaced to the steps as the
    /// reference's sampling scripts build it; `choices` replace what they set. A choice of
    /// target, schedule or zero terminal SNR that contradicts the run is refused unless
    /// `overriding`: sampling with another than the trained one gives wrong frames.
    public func samplingSetup(_ choices: SamplingChoices, defaults: SamplingDefaults, overriding: Bool = false) throws -> SamplingSetup {
        var setup = SamplingSetup()
        if let configuration {
            let trained = configuration.settings
            setup = trained.respacedSamplingSetup()
            setup.respaced = true
            setup.names = .commandLine
            if let steps = defaults.steps { setup.options.steps = steps }
            if let mode = defaults.mode { setup.options.mode = mode }
            if let target = choices.target, target != trained.target, !overriding {
                throw contradiction("--pred", target.rawValue, key: "experiment.diffusion.pred_name", trained: trained.target.rawValue)
            }
            if let schedule = choices.schedule, schedule != trained.schedule, !overriding {
                throw contradiction("--schedule", schedule.rawValue, key: "experiment.diffusion.noise_schedule", trained: trained.schedule.rawValue)
            }
            if let ztsnr = choices.zeroTerminalSNR, ztsnr != trained.zeroTerminalSNR, !overriding {
                throw contradiction("--ztsnr", String(ztsnr), key: "experiment.diffusion.zero_terminal_snr", trained: String(trained.zeroTerminalSNR))
            }
        } else {
            setup.options.steps = defaults.steps ?? 250
            setup.options.mode = defaults.mode ?? .sequential
            setup.options.historyStabilization = 0.02
        }
        if let target = choices.target { setup.target = target }
        if let schedule = choices.schedule { setup.schedule = schedule }
        if let ztsnr = choices.zeroTerminalSNR { setup.zeroTerminalSNR = ztsnr }
        if let steps = choices.steps { setup.options.steps = steps }
        if let mode = choices.mode { setup.options.mode = mode }
        if let level = choices.historyStabilization { setup.options.historyStabilization = level }
        setup.options.eta = choices.eta
        setup.options.cachedCausal = choices.cachedCausal
        return setup
    }

    /// Without a training configuration: one line naming what is assumed, for the user to
    /// check (nil when the run's configuration was found).
    public func assumptionsNote(model choices: ModelChoices, sampling: SamplingChoices? = nil) -> String? {
        guard configuration == nil else { return nil }
        var assumed: [String] = []
        if choices.causal == nil { assumed.append("causal attention") }
        if choices.injection == nil { assumed.append("additive injection for action models without injection weights") }
        if let sampling {
            if sampling.target == nil { assumed.append("v-prediction") }
            if sampling.schedule == nil { assumed.append("the squaredcos_cap_v2 schedule") }
            if sampling.zeroTerminalSNR == nil { assumed.append("zero terminal SNR") }
            if sampling.historyStabilization == nil { assumed.append("history stabilisation 0.02") }
        }
        guard !assumed.isEmpty else { return nil }
        return "note: no training config.yaml at or above \(path) (give one with --config FILE); assuming the reference's defaults: \(assumed.joined(separator: ", "))"
    }
}
