/// What the planning task reads from its own composition beyond the `planning` block: the
/// checkpoint to plan with and the sampling settings that override the training run's.
public struct PlanningTaskSettings: Sendable {
    public var checkpoint: String?                 // ckpt_path
    public var schedulingMode: String?             // model.scheduling_mode (absent or null: the training run's)
    public var historyStabilization: Double?       // experiment.diffusion.history_stabilization_level (likewise)

    public static let checkpointKey = "ckpt_path"

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config)
        checkpoint = try r.get("ckpt_path")
        schedulingMode = try r.get("model.scheduling_mode")
        historyStabilization = try r.get("experiment.diffusion.history_stabilization_level")
    }
}
