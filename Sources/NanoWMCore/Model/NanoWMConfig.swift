import Foundation
import SwiftTorch

/// How actions reach the transformer blocks. The raw values are the reference's
/// `action_injection_type` strings, so configs and checkpoints name them the same way.
public enum ActionInjection: String, CaseIterable, Codable, Sendable {
    /// The action embedding is added to the tokens before attention (no extra weights).
    case additive
    /// A second adaLN projection of the action, whose six chunks add to the timestep's.
    case adaln
    /// The action embedding is added to the timestep conditioning (no extra weights).
    case adalnFuse = "adaln_fuse"
    /// FiLM after the attention residual: x = (1 + γ)·x + β.
    case film
    /// Gated cross-attention from tokens to action tokens, after the MLP.
    case crossAttention = "cross_attention"
}

/// Everything that fixes a NanoWM network's shape and behaviour: the reference constructor's
/// arguments (minus the class/text conditioning it cannot run with) plus `causal`.
public struct NanoWMConfig: Equatable, Codable, Sendable {
    /// Latent height and width (square, as the reference's patch embedder requires).
    public var inputSize: Int
    public var patchSize: Int
    public var inChannels: Int
    public var hiddenSize: Int
    /// Number of blocks; they alternate spatial (even index) and temporal (odd index).
    public var depth: Int
    public var numHeads: Int
    public var mlpRatio: Double
    public var numFrames: Int
    public var useAction: Bool
    public var actionDim: Int?
    public var actionInjection: ActionInjection
    /// Temporal attention sees only the current and earlier frames.
    public var causal: Bool

    /// The reference constructor's defaults (NanoWM-XL/2 on 32×32×4 latents, 16 frames).
    public init(inputSize: Int = 32, patchSize: Int = 2, inChannels: Int = 4, hiddenSize: Int = 1152,
                depth: Int = 28, numHeads: Int = 16, mlpRatio: Double = 4.0, numFrames: Int = 16,
                useAction: Bool = false, actionDim: Int? = nil, actionInjection: ActionInjection = .additive,
                causal: Bool = false) {
        self.inputSize = inputSize
        self.patchSize = patchSize
        self.inChannels = inChannels
        self.hiddenSize = hiddenSize
        self.depth = depth
        self.numHeads = numHeads
        self.mlpRatio = mlpRatio
        self.numFrames = numFrames
        self.useAction = useAction
        self.actionDim = actionDim
        self.actionInjection = actionInjection
        self.causal = causal
    }

    // MARK: Derived sizes

    /// The model predicts as many channels as it reads (no learned variance).
    public var outChannels: Int { inChannels }
    public var headDim: Int { hiddenSize / numHeads }
    /// Patches per side of the latent grid.
    public var gridSize: Int { inputSize / patchSize }
    /// Tokens per frame.
    public var numPatches: Int { gridSize * gridSize }
    /// Width of the SwiGLU hidden layer, truncated toward zero as Python's `int()` does.
    public var mlpHiddenSize: Int { Int(Double(hiddenSize) * mlpRatio) }

    /// Throws with a readable reason when the reference could not build or run this shape.
    public func validate() throws {
        func fail(_ why: String) -> TorchError { .invalidArgument("NanoWM config: \(why)") }
        guard inputSize > 0, patchSize > 0, inputSize % patchSize == 0 else {
            throw fail("input size \(inputSize) must be a positive multiple of patch size \(patchSize)")
        }
        guard hiddenSize > 0, numHeads > 0, hiddenSize % numHeads == 0 else {
            throw fail("hidden size \(hiddenSize) must be divisible by \(numHeads) heads")
        }
        // The 2-D RoPE splits each head into four equal quarters (sin/cos × row/column).
        guard headDim % 4 == 0 else { throw fail("head dim \(headDim) must be divisible by 4 for 2-D RoPE") }
        guard depth > 0, depth % 2 == 0 else { throw fail("depth \(depth) must be even (spatial/temporal pairs)") }
        guard numFrames > 0, inChannels > 0, mlpHiddenSize > 0 else { throw fail("sizes must be positive") }
        if useAction {
            guard let actionDim, actionDim > 0 else { throw fail("use_action needs a positive action_dim") }
        }
    }

    // MARK: Named variants

    /// Width, heads and depth of each model size, as the reference's constructors set them.
    public struct Size: Equatable, Sendable {
        public var hiddenSize: Int, numHeads: Int, depth: Int
    }

    public static let sizes: [String: Size] = [
        "S": Size(hiddenSize: 384, numHeads: 6, depth: 12),
        "B": Size(hiddenSize: 768, numHeads: 12, depth: 12),
        "L": Size(hiddenSize: 1024, numHeads: 16, depth: 24),
        "XL": Size(hiddenSize: 1152, numHeads: 16, depth: 28),
    ]

    /// The reference's `NanoWM_models` table: every size with patches 1, 2, 4 and 8, except
    /// that XL has no /1.
    public static let variantNames: [String] = ["XL", "L", "B", "S"].flatMap { size in
        (size == "XL" ? [2, 4, 8] : [1, 2, 4, 8]).map { "NanoWM-\(size)/\($0)" }
    }

    /// A named variant ("NanoWM-B/2") with the remaining arguments as in the reference.
    public init(variant name: String, inputSize: Int = 32, inChannels: Int = 4, numFrames: Int = 16,
                useAction: Bool = false, actionDim: Int? = nil, actionInjection: ActionInjection = .additive,
                causal: Bool = false) throws {
        guard Self.variantNames.contains(name) else {
            throw TorchError.invalidArgument("unknown NanoWM variant '\(name)'; known: \(Self.variantNames.joined(separator: ", "))")
        }
        let parts = name.dropFirst("NanoWM-".count).split(separator: "/")
        let size = Self.sizes[String(parts[0])]!
        self.init(inputSize: inputSize, patchSize: Int(parts[1])!, inChannels: inChannels,
                  hiddenSize: size.hiddenSize, depth: size.depth, numHeads: size.numHeads,
                  numFrames: numFrames, useAction: useAction, actionDim: actionDim,
                  actionInjection: actionInjection, causal: causal)
    }

    /// The variant name when width, heads, depth and patch match a table entry.
    public var variantName: String? {
        guard let (size, _) = Self.sizes.first(where: {
            $0.value == Size(hiddenSize: hiddenSize, numHeads: numHeads, depth: depth)
        }) else { return nil }
        let name = "NanoWM-\(size)/\(patchSize)"
        return Self.variantNames.contains(name) ? name : nil
    }

    // MARK: The reference's keyword arguments

    /// Reads the reference constructor's keyword arguments (`input_size`, `patch_size`,
    /// `in_channels`, `hidden_size`, `depth`, `num_heads`, `mlp_ratio`, `num_frames`,
    /// `use_action`, `action_dim`, `action_injection_type`, `causal`), as a parsed JSON
    /// object. A `model` or `arch` entry naming a variant supplies width, heads, depth and
    /// patch; absent arguments take the reference defaults. `extras` must be 1 (the reference
    /// cannot run class- or text-conditioned models); other unknown keys are ignored.
    public init(referenceArguments args: [String: Any]) throws {
        func int(_ key: String) throws -> Int? {
            guard let value = args[key], !(value is NSNull) else { return nil }
            if let number = value as? NSNumber { return number.intValue }
            throw TorchError.invalidArgument("NanoWM config: '\(key)' should be an integer, got \(value)")
        }
        var config = NanoWMConfig()
        if let name = (args["model"] ?? args["arch"]) as? String {
            config = try NanoWMConfig(variant: name)
        }
        if let extras = try int("extras"), extras != 1 {
            throw TorchError.invalidArgument("NanoWM config: extras=\(extras) (class/text conditioning) is not supported; the reference's forward rejects it too")
        }
        config.inputSize = try int("input_size") ?? config.inputSize
        config.patchSize = try int("patch_size") ?? config.patchSize
        config.inChannels = try int("in_channels") ?? config.inChannels
        config.hiddenSize = try int("hidden_size") ?? config.hiddenSize
        config.depth = try int("depth") ?? config.depth
        config.numHeads = try int("num_heads") ?? config.numHeads
        config.numFrames = try int("num_frames") ?? config.numFrames
        config.actionDim = try int("action_dim") ?? config.actionDim
        if let ratio = args["mlp_ratio"] as? NSNumber { config.mlpRatio = ratio.doubleValue }
        if let flag = args["use_action"] as? NSNumber { config.useAction = flag.boolValue }
        if let flag = args["causal"] as? NSNumber { config.causal = flag.boolValue }
        if let kind = args["action_injection_type"] as? String {
            guard let injection = ActionInjection(rawValue: kind) else {
                throw TorchError.invalidArgument("NanoWM config: unknown action_injection_type '\(kind)'")
            }
            config.actionInjection = injection
        }
        self = config
    }

    /// The same configuration as the reference's keyword arguments (plus `causal`).
    public var referenceArguments: [String: Any] {
        var args: [String: Any] = [
            "input_size": inputSize, "patch_size": patchSize, "in_channels": inChannels,
            "hidden_size": hiddenSize, "depth": depth, "num_heads": numHeads, "mlp_ratio": mlpRatio,
            "num_frames": numFrames, "use_action": useAction,
            "action_injection_type": actionInjection.rawValue, "causal": causal,
        ]
        if let actionDim { args["action_dim"] = actionDim }
        return args
    }
}
