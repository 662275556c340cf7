import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// `nanowm codec encode|decode`: the run's latent codec on a file.
struct CodecCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec", abstract: "Encode frames to latents or decode latents with a run's latent codec.",
        subcommands: [Encode.self, Decode.self])

    /// The codec a command line selects, as a run would.
    struct Selection: ParsableArguments {
        @Argument(help: "Overrides that select the codec, e.g. latent_codec=sd_vae latent_codec.torchscript=FILE.")
        var overrides: [String] = []
        @Option(name: .customLong("config-dir"), help: "The folder holding config.yaml (default: the repository's configs/).")
        var configDir: String?
        @Option(help: ArgumentHelp("Where to run the codec.", valueName: "cpu|cuda|cuda:N")) var device = "cpu"
        @Option(help: "Input safetensors file.") var input: String
        @Option(help: "Output safetensors file.") var output: String
        @Option(help: "A checkpoint whose training config.yaml selects the codec (an SD-VAE also takes its vae.* weights), instead of overrides.")
        var checkpoint: String?
        @Option(name: .customLong("config"), help: "The checkpoint's training config.yaml (default: the nearest at or above its folder).")
        var config: String?

        func codec() throws -> (LatentCodec, Device) {
            let target = try Device(parsing: device)
            try target.ensureAvailable()
            if let checkpoint {
                guard overrides.isEmpty else {
                    throw ConfigError(.invalidValue, "with --checkpoint the codec comes from its training config; drop the overrides \(overrides.joined(separator: " "))")
                }
                let trained = try TrainedCheckpoint(checkpoint, configFile: config)
                guard let run = trained.configuration else {
                    throw ConfigError(.missingConfig, "no training config.yaml at or above \(checkpoint); give --config FILE, or select the codec with overrides")
                }
                return (try run.pixelSpace(checkpoint: checkpoint, device: target).codec, target)
            }
            if config != nil { throw ConfigError(.invalidValue, "--config goes with --checkpoint") }
            let config = try ConfigComposer.locate(configDir: configDir).composition(overrides: overrides).resolved()
            return (try RunConfiguration(config).codec(device: target), target)
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Frames (key `frames`, [N, 3, H, W] float in [−1, 1]) to latents (key `latents`).",
            discussion: """
            With --seed S, an SD-VAE sample equals upstream's torch.manual_seed(S) followed by \
            vae.encode(x).latent_dist.sample() * scaling_factor.

            Example:
              nanowm codec encode latent_codec=sd_vae --input frames.safetensors \\
                  --output latents.safetensors --seed 0
            """)
        @OptionGroup var selection: Selection
        @Option(parsing: .unconditional, help: "Seed the global generator first (≥ 0).") var seed: Int?
        @Option(help: ArgumentHelp("SD-VAE: a posterior sample (as upstream) or its mean.", valueName: "sample|mean"))
        var mode = "sample"

        func run() throws {
            guard let draw = SDVAECodec.Draw(rawValue: mode) else { throw ValidationError("--mode is sample or mean (got \(mode))") }
            let (codec, device) = try selection.codec()
            let shape = try CodecTransfer.encode(codec, input: selection.input, output: selection.output, seed: seed,
                                                 draw: draw, device: device)
            print("wrote latents \(shape) to \(selection.output)")
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Latents (key `latents`) to frames (key `frames`, the decoder's raw output, nominally [−1, 1]).")
        @OptionGroup var selection: Selection

        func run() throws {
            let (codec, device) = try selection.codec()
            let shape = try CodecTransfer.decode(codec, input: selection.input, output: selection.output, device: device)
            print("wrote frames \(shape) to \(selection.output)")
        }
    }
}
