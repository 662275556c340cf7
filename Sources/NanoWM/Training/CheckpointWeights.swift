import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// The one way a checkpoint's weights reach a run's model: the model's tensors matched strictly,
/// as the reference loads them, and for an SD-VAE codec the checkpoint's `vae.*` tensors, as the
/// reference's sampling and evaluation load them. Evaluation, a pretrained start, planning and
/// the sampling commands all load through here.
public enum CheckpointWeights {
    /// Loads the checkpoint at `path` into `model` (and `codec`'s VAE); returns what was loaded,
    /// one line each, for the log.
    @discardableResult
    public static func load(_ path: String, into model: NanoWMModel, codec: LatentCodec? = nil) throws -> [String] {
        let checkpoint = try Checkpoint.open(path)
        var loaded = ["loaded \(path) (\(try UpstreamWeights.load(checkpoint, into: model)))"]
        if let vae = codec as? SDVAECodec, let count = try UpstreamWeights.loadCodecWeights(checkpoint, into: vae) {
            loaded.append("the VAE takes the checkpoint's \(count) vae.* tensors")
        }
        return loaded
    }

    /// A model of `config` with the checkpoint's weights, in evaluation mode on `device`, with
    /// the reference's matmul precision there (`ReferenceMatmulPrecision`: TF32 on CUDA).
    public static func model(_ config: NanoWMConfig, from path: String, codec: LatentCodec? = nil, device: Device = .cpu) throws
        -> (model: NanoWMModel, loaded: [String]) {
        try ReferenceMatmulPrecision.apply(for: device)
        let model = try NanoWMModel(config)
        let loaded = try load(path, into: model, codec: codec)
        if device != .cpu { try model.to(device) }
        model.eval()
        return (model, loaded)
    }
}
