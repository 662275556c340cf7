import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch

/// Diffusion settings a checkpoint does not record; defaults are upstream's `experiment=default`.
struct DiffusionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Denoising steps per frame.", valueName: "S")) var steps = 250
    @Option(help: ArgumentHelp("Scheduling of noise levels.", valueName: "sequential|pyramid|full_sequence")) var mode = "sequential"
    @Option(help: "Random seed (CPU: the same draws as upstream under torch.manual_seed).") var seed: UInt64 = 0
    @Option(help: ArgumentHelp("What the model predicts.", valueName: "eps|x|v|flow")) var pred = "v"
    @Option(help: ArgumentHelp("Noise schedule.", valueName: "linear|squaredcos_cap_v2")) var schedule = "squaredcos_cap_v2"
    @Option(help: ArgumentHelp("Zero terminal SNR rescaling.", valueName: "true|false")) var ztsnr = true
    @Option(name: .customLong("history-stabilization"), help: "Noise level given to context frames (0 = off).")
    var historyStabilization = 0.02
    @Option(help: "DDIM η (0 = deterministic).") var eta = 0.0

    func sampler() throws -> (DiffusionProcess, SamplingOptions) {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1 (got \(steps))") }
        guard let noise = NoiseSchedule(rawValue: schedule) else {
            throw ValidationError("unknown --schedule '\(schedule)'; use linear or squaredcos_cap_v2")
        }
        guard (0..<1).contains(historyStabilization) else { throw ValidationError("--history-stabilization must lie in [0, 1)") }
        var options = SamplingOptions()
        options.mode = try SchedulingMode(name: mode)
        options.steps = steps
        options.eta = eta
        options.historyStabilization = historyStabilization
        let target = try PredictionTarget(name: pred)
        // Respaced to the step count, as upstream's sampling scripts build it.
        let process: DiffusionProcess = target == .flow ? FlowMatching()
            : try GaussianDiffusion(schedule: noise, target: target, zeroTerminalSNR: ztsnr, samplingSteps: steps)
        return (process, options)
    }
}

/// Reads `context` (and `action`) from a clip file and checks them against the model.
private func readClip(_ path: String, for model: NanoWMModel, device: Device) throws -> (context: Tensor, action: Tensor?) {
    let tensors = try SafeTensors.read(path).tensors
    guard let context = tensors["context"] else { throw ValidationError("\(path): no tensor 'context' [B, K, C, H, W]") }
    let config = model.config
    guard context.shape.count == 5, context.shape[2] == config.inChannels, context.shape[3] == config.inputSize,
          context.shape[4] == config.inputSize else {
        throw ValidationError("\(path): context has shape \(context.shape); the model takes [B, K, \(config.inChannels), \(config.inputSize), \(config.inputSize)]")
    }
    var action: Tensor?
    if config.useAction {
        guard let a = tensors["action"] else { throw ValidationError("\(path): the model uses actions but the file has no 'action' [B, F, A]") }
        guard a.shape.count == 3, a.shape[0] == context.shape[0], a.shape[2] == config.actionDim else {
            throw ValidationError("\(path): action has shape \(a.shape); expected [\(context.shape[0]), F, \(config.actionDim ?? 0)]")
        }
        action = try a.to(device)
    }
    return (try context.to(.float32).to(device), action)
}

/// `nanowm sample`: generate the frames after a context with diffusion forcing.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate future latent frames after a context clip.",
        discussion: """
        Input: `context` [B, K, C, H, W] float32 (K context frames) and, for action models, `action`
        [B, F, A]. Output: `samples` [B, F, C, H, W], context included as upstream returns it.
        Defaults follow upstream (250 sequential DDIM steps, v-prediction, cosine schedule with zero
        terminal SNR, history stabilisation 0.02).
        """)

    @OptionGroup var model: CheckpointOptions
    @OptionGroup var diffusion: DiffusionOptions
    @Option(help: "Clip file with context (and action).") var input: String
    @Option(help: "Output safetensors with samples.") var output: String
    @Option(help: "Frames in the result, context included (default: the model's window).") var frames: Int?

    func run() throws {
        let (network, device) = try model.load()
        let (context, action) = try readClip(input, for: network, device: device)
        let total = frames ?? network.config.numFrames
        guard total == network.config.numFrames else {
            throw ValidationError("--frames \(total) differs from the model's \(network.config.numFrames)-frame window; use `nanowm rollout` for longer clips")
        }
        let contextFrames = context.shape[1]
        guard contextFrames < total else { throw ValidationError("the \(contextFrames)-frame context leaves nothing to generate in \(total) frames") }
        if let action, action.shape[1] < total { throw ValidationError("\(input): action has \(action.shape[1]) frames; \(total) needed") }
        let (process, options) = try diffusion.sampler()
        let window = try action.map { try $0.narrow(dim: 1, start: 0, length: total) }
        try manualSeed(diffusion.seed)
        var bar: ProgressBar?
        let samples = try withNoGrad {
            try DiffusionForcingSampler(process: process, options: options).sample(
                { x, t in try network(x, t: t, action: window) },
                shape: [context.shape[0], total] + Array(context.shape[2...]), context: context, contextFrames: contextFrames,
                progress: { done, steps in
                    if bar == nil { bar = ProgressBar("sample", total: steps) }
                    bar?.update(done)
                })
        }
        try SafeTensors.write(["samples": try samples.to(.cpu)], to: output)
        print("wrote samples \(samples.shape) to \(output)")
    }
}

/// `nanowm rollout`: long-horizon generation with a sliding context window.
struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate far beyond the training window, one frame at a time with a sliding context.",
        discussion: """
        Input as for `sample`: `context` [B, K, C, H, W] (K ≥ --history) and, for action models, `action`
        [B, N, A] with one action per frame (the last is repeated past the end). The model sees
        --window frames at a time (its training window): the last --history generated frames and the
        new ones. Output: `samples` [B, --frames, C, H, W]. Defaults follow upstream's rollout script.
        """)

    @OptionGroup var model: CheckpointOptions
    @OptionGroup var diffusion: DiffusionOptions
    @Option(help: "Clip file with context (and action).") var input: String
    @Option(help: "Output safetensors with samples.") var output: String
    @Option(help: "Frames in the result, context included.") var frames = 50
    @Option(help: "Context frames kept (default: window − 1).") var history: Int?
    @Option(help: "Frames the model sees at once (default: the model's window).") var window: Int?

    func run() throws {
        let (network, device) = try model.load()
        let (context, action) = try readClip(input, for: network, device: device)
        let span = window ?? network.config.numFrames
        guard span == network.config.numFrames else {
            throw ValidationError("--window \(span) differs from the model's \(network.config.numFrames)-frame window")
        }
        let kept = history ?? min(span - 1, context.shape[1])
        let (process, options) = try diffusion.sampler()
        let rollout = try SlidingWindowRollout(process: process, options: options, window: span, history: kept)
        try manualSeed(diffusion.seed)
        let bar = ProgressBar("rollout", total: frames - kept)
        let samples = try withNoGrad {
            try rollout.generate({ x, t, a in try network(x, t: t, action: a) }, context: context, actions: action,
                                 length: frames, progress: { done, _ in bar.update(done) })
        }
        try SafeTensors.write(["samples": try samples.to(.cpu)], to: output)
        print("wrote samples \(samples.shape) to \(output)")
    }
}
