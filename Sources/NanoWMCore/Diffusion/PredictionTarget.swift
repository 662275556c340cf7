import SwiftTorch

/// What the network is trained to output.
public enum PredictionTarget: String, CaseIterable, Sendable {
    /// The noise ε.
    case epsilon = "eps"
    /// The clean sample x₀.
    case x
    /// v = √ᾱ·ε − √(1−ᾱ)·x₀.
    case v
    /// Flow matching's velocity u = x₀ − ε (a separate process, see `FlowMatching`).
    case flow

    /// Parses upstream's `pred_name` values (`eps`/`epsilon`, `x`, `v`, `flow`).
    public init(name: String) throws {
        switch name {
        case "eps", "epsilon": self = .epsilon
        case "x": self = .x
        case "v": self = .v
        case "flow": self = .flow
        default: throw DiffusionError("unknown prediction target '\(name)'; use eps, x, v or flow")
        }
    }
}

/// The network as the diffusion sees it: noisy frames `[B, F, C, H, W]` and timesteps
/// (`[B]` or `[B, F]`, in the original 0..<T range) to its prediction.
public typealias Denoiser = (_ x: Tensor, _ t: Tensor) throws -> Tensor

/// Per-sample training losses: the plain MSE and the weighted loss that is minimised.
public struct LossTerms {
    public var mse: Tensor
    public var loss: Tensor
}

/// One diffusion-forcing denoising step's result.
public struct DenoiseStep {
    public var sample: Tensor
    public var predictedX0: Tensor
}

/// The interface training and sampling use, shared by Gaussian diffusion and flow matching.
public protocol DiffusionProcess {
    /// Steps of this (possibly respaced) process; sampling indexes 0..<numTimesteps.
    var numTimesteps: Int { get }
    /// Noises x₀ to level `t` (per clip `[B]` or per frame `[B, F]`).
    func qSample(_ x0: Tensor, t: Tensor, noise: Tensor) throws -> Tensor
    func trainingLosses(_ model: Denoiser, x0: Tensor, t: Tensor, noise: Tensor) throws -> LossTerms
    /// Moves each frame from its level `current` to `next` (−1 = clean); frames whose level
    /// does not change, or that are already clean, keep their values.
    func denoise(_ model: Denoiser, x: Tensor, current: Tensor, next: Tensor, eta: Double) throws -> DenoiseStep
}
