/// `experiment.diffusion.*`: the noise process and how training draws its noise levels.
public struct DiffusionSettings: Sendable {
    public var noiseSchedule: String               // noise_schedule (linear | squaredcos_cap_v2)
    public var diffusionSteps: Int                 // diffusion_steps
    public var predictionName: String              // pred_name (epsilon | x0 | v | flow)
    public var mode: String                        // mode (diffusion_forcing | full_seq_diffusion)
    public var snrGamma: Double                    // snr_gamma
    public var zeroTerminalSNR: Bool               // zero_terminal_snr
    public var timestepSampling: String            // timestep_sampling
    public var logitNormalMean: Double             // logit_normal_mean (null: 0)
    public var logitNormalStd: Double              // logit_normal_std (null: 1)
    public var historyStabilization: Double        // history_stabilization_level

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config, prefix: "experiment.diffusion.")
        noiseSchedule = try r.required("noise_schedule")
        diffusionSteps = try r.required("diffusion_steps")
        predictionName = try r.required("pred_name")
        mode = try r.required("mode")
        snrGamma = try r.required("snr_gamma")
        zeroTerminalSNR = try r.required("zero_terminal_snr")
        timestepSampling = try r.required("timestep_sampling")
        logitNormalMean = try r.nullable("logit_normal_mean") ?? 0
        logitNormalStd = try r.nullable("logit_normal_std") ?? 1
        historyStabilization = try r.required("history_stabilization_level")
    }
}
