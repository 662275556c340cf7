/// `wandb.*`: the Weights & Biases run the reference's WandbLogger makes, and (ours) the Python
/// that runs W&B's SDK for us.
public struct WandbSettings: Sendable {
    public enum Mode: String, Sendable, CaseIterable { case online, offline, disabled }

    public var enabled: Bool                       // enabled (null: true)
    public var project: String                     // project (WANDB_PROJECT, default nano-world-model)
    public var entity: String?                     // entity (WANDB_ENTITY)
    public var mode: Mode                          // mode (WANDB_MODE, default online)
    /// python (ours): the interpreter whose `wandb` package logs the run.
    public var python: String

    public var isOn: Bool { enabled && mode != .disabled }

    public init(_ config: ConfigNode) throws {
        let r = SettingsReader(config, prefix: "wandb.")
        enabled = try r.nullable("enabled") ?? true
        project = try r.get("project") ?? "nano-world-model"
        entity = try r.get("entity")
        let text: String = try r.get("mode") ?? Mode.online.rawValue
        guard let mode = Mode(rawValue: text) else {
            throw ConfigError(.invalidValue, "wandb.mode=\(text): use online, offline or disabled (or set WANDB_MODE)")
        }
        self.mode = mode
        python = try r.get("python") ?? "python3"
    }
}
