import ArgumentParser
import NanoWM
import SwiftTorch

/// `nanowm`: the command line of NanoWM in Swift. Thin by design: each subcommand parses its
/// options and calls into the NanoWM library.
@main
struct NanoWMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nanowm",
        abstract: "Video world models trained with diffusion forcing, on libtorch, in one binary.",
        discussion: """
        Loads released PyTorch checkpoints, trains and fine-tunes, rolls models out and
        evaluates them. Start with `nanowm doctor` to see which libtorch this binary uses.
        """,
        version: NanoWMInfo.version,
        subcommands: [Doctor.self, Smoke.self, CheckpointCommands.self, ConfigCommand.self, ModelCommands.self,
                      Forward.self, Sample.self, Rollout.self, Train.self, QuickstartCommand.self])
}
