import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch
import NanoWMCore

/// `nanowm`: the command line of NanoWM in Swift. Thin by design: each subcommand parses its
/// options and calls into the NanoWM library.
@main
struct NanoWMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nanowm",
        abstract: "Video world models trained with diffusion forcing, on libtorch, in one binary.",
        discussion: """
        Loads released PyTorch checkpoints, trains and fine-tunes, rolls models out and \
        evaluates them. New here? `nanowm quickstart` generates data, trains a small model, \
        evaluates it and writes videos and plots, in minutes on a CPU. `nanowm doctor` shows \
        which libtorch this binary uses.
        """,
        version: NanoWMInfo.version,
        subcommands: [QuickstartCommand.self, RunCommand.self, TrainCommand.self, PlanCommand.self, SampleCommand.self, RolloutCommand.self, ForwardCommand.self,
                      EvaluateCommand.self, MetricsCommand.self, CompareCommand.self, CheckpointCommands.self, CodecCommands.self,
                      EncodeDatasetCommand.self, ConfigCommand.self, ModelCommands.self, DataCommands.self, DoctorCommand.self, SmokeCommand.self,
                      PlayCommand.self, PointCloudCommand.self, ViewCommand.self])

    /// ArgumentParser's entry, except that a run a stop signal ended exits with 128 + the
    /// signal (130 for Ctrl-C, 143 for SIGTERM, 138 for SIGUSR1), as schedulers expect.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let stopped as StoppedBySignal {
            FileHandle.standardError.write(Data("Error: \(stopped)\n".utf8))
            Foundation.exit(stopped.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}
