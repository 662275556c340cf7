import SwiftTorch

/// Writes checkpoints in PyTorch Lightning's layout, so upstream's `pretrained` and resume
/// paths (and plain `torch.load(weights_only=True)`) read what we train.
public struct LightningCheckpoint {
    /// The model's state dict, written under `state_dict` with Lightning's `model.` prefix.
    public var model: [(String, Tensor)]
    public var epoch = 0
    public var globalStep = 0
    /// `torch.optim.Optimizer.state_dict()`-shaped values, one per optimizer.
    public var optimizerStates: [PickleValue] = []
    /// LR-scheduler `state_dict()`s.
    public var lrSchedulers: [PickleValue] = []
    /// Anything else to keep (hyper-parameters, RNG state): plain values only.
    public var extra: [(String, PickleValue)] = []

    /// The Lightning release whose layout this mirrors.
    public static let lightningVersion = "2.5.0"

    public init(model: [(String, Tensor)]) { self.model = model }

    public func write(to path: String) throws {
        let stateDict = PickleDict(ordered: true)
        for (name, tensor) in model { stateDict[UpstreamWeights.modulePrefix + name] = .tensor(TensorRef(tensor)) }
        let root = PickleDict()
        root["epoch"] = .int(epoch)
        root["global_step"] = .int(globalStep)
        root["pytorch-lightning_version"] = .string(Self.lightningVersion)
        root["state_dict"] = .dict(stateDict)
        root["loops"] = .dict(PickleDict())
        root["callbacks"] = .dict(PickleDict())
        root["optimizer_states"] = .list(PickleList(optimizerStates))
        root["lr_schedulers"] = .list(PickleList(lrSchedulers))
        for (key, value) in extra { root[key] = value }
        try TorchArchive.write(.dict(root), to: path)
    }
}
