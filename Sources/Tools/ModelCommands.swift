import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch
import NanoWMCore

/// Options shared by every command that loads a checkpoint. The model and how it was trained
/// come from the checkpoint's training config.yaml (`TrainedCheckpoint`); these flags are for
/// checkpoints without one, or to override it knowingly.
struct CheckpointOptions: ParsableArguments {
    @Option(name: .long, help: "Checkpoint (.ckpt/.pt/.pth Lightning or state dict, or .safetensors).")
    var checkpoint: String

    @Option(name: .customLong("config"),
            help: "The checkpoint's training config.yaml (default: the nearest config.yaml at or above the checkpoint's folder).")
    var config: String?

    @Flag(name: .customLong("override-config"), help: "Let flags differ from the training config (otherwise such a flag is refused).")
    var overrideConfig = false

    @Option(help: ArgumentHelp("Causal temporal attention (default: the run's model.causal, else true).", valueName: "true|false"))
    var causal: Bool?

    @Option(help: ArgumentHelp("Injection for action models without injection weights (default: the run's, else additive).", valueName: "additive|adaln_fuse"))
    var injection: String?

    @Option(help: ArgumentHelp("Where to run.", valueName: "cpu|cuda|cuda:N"))
    var device: String = "cpu"

    var choices: TrainedCheckpoint.ModelChoices {
        get throws {
            guard let injection else { return TrainedCheckpoint.ModelChoices(causal: causal) }
            guard let kind = ActionInjection(rawValue: injection), kind == .additive || kind == .adalnFuse else {
                throw ValidationError("--injection must be additive or adaln_fuse (the others are recognised from the weights)")
            }
            return TrainedCheckpoint.ModelChoices(causal: causal, injection: kind)
        }
    }

    /// The checkpoint with its training configuration, the model, and the device.
    func load() throws -> (TrainedCheckpoint, NanoWMModel, Device) {
        let target = try Device(parsing: device)
        try target.ensureAvailable()
        let trained = try TrainedCheckpoint(checkpoint, configFile: config)
        return (trained, try trained.model(try choices, overriding: overrideConfig, device: target), target)
    }

    /// After a command succeeded without a training config: which defaults it assumed (on
    /// stderr, so a failure stays one line).
    func noteAssumptions(_ trained: TrainedCheckpoint, sampling: TrainedCheckpoint.SamplingChoices? = nil) throws {
        if let note = trained.assumptionsNote(model: try choices, sampling: sampling) { FileHandle.standardError.write(Data((note + "\n").utf8)) }
    }
}

/// `nanowm forward`: one forward pass on tensors from a safetensors file.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run the model once: x [B,F,C,H,W], t [B] or [B,F], action [B,F,A] in; out [B,F,C,H,W] out.",
        discussion: """
        The model is the one the checkpoint's training config.yaml describes (else inferred from the \
        weights). The input file holds `x` and, for action models, \
        `action` (floating point, converted to float32) and integer `t`; the output file holds `out`. This \
        contract is stable: it is how NanoWM in Swift is compared with PyTorch from outside.

        With --gradients FILE the pass also runs backward: the input file then also holds `probe` (the shape of \
        `out`), and FILE receives the gradient of (out · probe).sum() for every parameter, under its state-dict \
        key, as PyTorch's `p.grad` after the same call (parameters the pass does not reach are left out).
        """)

    @OptionGroup var model: CheckpointOptions
    @Option(help: "Input safetensors with x, t (and action).") var input: String
    @Option(help: "Output safetensors (written atomically).") var output: String
    @Option(help: ArgumentHelp("Also write the parameters' gradients of (out · probe).sum(), `probe` read from the input file.", valueName: "FILE"))
    var gradients: String?

    func run() throws {
        let (trained, network, device) = try model.load()
        let shape = try ForwardPass.run(network, device: device, input: input, output: output, gradients: gradients)
        print("wrote out \(shape) to \(output)")
        if let gradients { print("wrote the parameters' gradients to \(gradients)") }
        try model.noteAssumptions(trained)
    }
}

/// `nanowm model info NAME`.
struct ModelCommands: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Describe NanoWM variants.",
                                                    subcommands: [Info.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a variant's architecture and parameter count (e.g. nanowm model info NanoWM-B/2).")

        @Argument(help: "Variant name: NanoWM-{S,B,L,XL}/{1,2,4,8}.") var name: String
        @Option(help: "Latent input size.") var inputSize = 32
        @Option(help: "Latent channels.") var channels = 4
        @Option(help: "Frames per clip.") var frames = 4
        @Option(help: "Action dimension (0 = no actions).") var actionDim = 10
        @Option(help: "additive | adaln | adaln_fuse | film | cross_attention") var injection = "additive"

        func run() throws {
            guard NanoWMConfig.variantNames.contains(name) else {
                throw ValidationError("unknown variant '\(name)'; known: \(NanoWMConfig.variantNames.joined(separator: ", "))")
            }
            guard let kind = ActionInjection(rawValue: injection) else {
                throw ValidationError("unknown injection '\(injection)'; use \(ActionInjection.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let config = try NanoWMConfig(variant: name, inputSize: inputSize, inChannels: channels, numFrames: frames,
                                          useAction: actionDim > 0, actionDim: actionDim > 0 ? actionDim : nil,
                                          actionInjection: kind, causal: true)
            let count = try NanoWMModel(config).parameterCount
            print(config.summary)
            print("parameters: \(count) (\(String(format: "%.1fM", Double(count) / 1e6)))")
        }
    }
}
