import SwiftTorch

/// NanoWM: the latent-video world model and everything around it (diffusion forcing,
/// codecs, data, training, sampling, evaluation, planning). Filled in by later issues; this
/// file names the module and what it is built on.
public enum NanoWMInfo {
    public static let version = "0.1.0"
    /// The PyTorch release whose checkpoints and numbers this project matches.
    public static let referenceTorchVersion = "2.13.0"
}
