import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch

/// Options shared by every command that loads a checkpoint.
struct CheckpointOptions: ParsableArguments {
    @Option(name: .long, help: "Checkpoint (.ckpt/.pt/.pth Lightning or state dict, or .safetensors).")
    var checkpoint: String

    @Option(help: ArgumentHelp("Causal temporal attention (not recorded in weights).", valueName: "true|false"))
    var causal: Bool = true

    @Option(help: ArgumentHelp("Injection for action models without injection weights.", valueName: "additive|adaln_fuse"))
    var injection: String = "additive"

    @Option(help: ArgumentHelp("Where to run.", valueName: "cpu|cuda|cuda:N"))
    var device: String = "cpu"

    func load() throws -> (NanoWMModel, Device) {
        guard let kind = ActionInjection(rawValue: injection), kind == .additive || kind == .adalnFuse else {
            throw ValidationError("--injection must be additive or adaln_fuse (the others are recognised from the weights)")
        }
        let target = try Device(parsing: device)
        try target.ensureAvailable()
        return (try NanoWMModel.load(checkpoint: checkpoint, causal: causal, weightlessInjection: kind, device: target), target)
    }
}

/// `nanowm forward`: one forward pass on tensors from a safetensors file.
struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the model once: x [B,F,C,H,W], t [B] or [B,F], action [B,F,A] in; out [B,F,C,H,W] out.",
        discussion: """
        The architecture is inferred from the checkpoint. The input file holds `x` and, for action models, \
        `action` (floating point, converted to float32) and integer `t`; the output file holds `out`. This \
        contract is stable: it is how NanoWM in Swift is compared with PyTorch from outside.
        """)

    @OptionGroup var model: CheckpointOptions
    @Option(help: "Input safetensors with x, t (and action).") var input: String
    @Option(help: "Output safetensors (written atomically).") var output: String

    func run() throws {
        let (network, device) = try model.load()
        let shape = try ForwardPass.run(network, device: device, input: input, output: output)
        print("wrote out \(shape) to \(output)")
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
