import SwiftTorch

/// The one place a sampling process is built: training validation, the quickstart and
/// `nanowm sample`/`rollout` describe the diffusion they sample from here and get the process
/// (respaced to the sampling steps, as upstream's sampling scripts build it, or on every
/// training timestep, as its evaluation samples) with its tables on the requested device.
public struct SamplingSetup: Sendable {
    public var target = PredictionTarget.v          // experiment.diffusion.pred_name
    public var schedule = NoiseSchedule.squaredcosCapV2
    public var zeroTerminalSNR = true
    /// Training timesteps T the model was trained with.
    public var diffusionSteps = 1000
    /// Respace the process to the sampling steps, as upstream's sampling scripts build it
    /// (`nanowm sample`, training validation). False keeps every training timestep, as
    /// upstream's evaluation samples: its DDIM grid is then the float32 `linspace(−1, T−1, k+1)`
    /// truncated toward zero on the T-step process, and history stabilisation noises the
    /// context to round(level·(T−1)) (spec §3.2). Upstream's planner builds its process the
    /// same way (`timestep_respacing=""`).
    public var respaced = true
    /// Mode, steps, η and history stabilisation of the sampling loop.
    public var options = SamplingOptions()
    /// How errors name the settings: the user's spelling (command-line option or config key).
    public var names = Names.commandLine

    public struct Names: Sendable {
        public var steps: String, eta: String, historyStabilization: String

        public init(steps: String, eta: String, historyStabilization: String) {
            (self.steps, self.eta, self.historyStabilization) = (steps, eta, historyStabilization)
        }

        public static let commandLine = Names(steps: "--steps", eta: "--eta", historyStabilization: "--history-stabilization")
    }

    public init() {}

    /// Throws a one-line error naming the setting and its valid range for values no sampler
    /// can use (a NaN η would otherwise turn every sample into NaN without a word).
    public func validate() throws {
        let steps = options.steps, eta = options.eta, level = options.historyStabilization
        guard steps >= 1 else { throw DiffusionError("\(names.steps) must be at least 1 (got \(steps))") }
        guard target == .flow || steps <= diffusionSteps else {
            throw DiffusionError("\(names.steps) \(steps) exceeds the \(diffusionSteps) diffusion steps the model was trained with; use at most \(diffusionSteps)")
        }
        guard eta.isFinite, eta >= 0 else { throw DiffusionError("\(names.eta) must be a finite number ≥ 0 (got \(eta)); 0 samples deterministically") }
        guard level.isFinite, (0..<1).contains(level) else {
            throw DiffusionError("\(names.historyStabilization) must lie in [0, 1) (got \(level)); 0 turns it off")
        }
    }

    /// The sampling process with every table on `device`, and the options to sample with.
    public func make(device: Device) throws -> (process: DiffusionProcess, options: SamplingOptions) {
        try validate()
        if target == .flow { return (FlowMatching(steps: diffusionSteps), options) }
        let process = try GaussianDiffusion(schedule: schedule, target: target, steps: diffusionSteps,
                                            zeroTerminalSNR: zeroTerminalSNR, samplingSteps: respaced ? options.steps : nil, device: device)
        return (process, options)
    }
}
