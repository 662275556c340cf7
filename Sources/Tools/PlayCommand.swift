import ArgumentParser
import Dispatch
import Foundation
import NanoWM
import NanoWMConfiguration
import NanoWMCore
import NanoWMWeb
import SwiftTorch

/// `nanowm play`: drive a trained world model live from the browser.
struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Play a trained world model live in the browser: your keys are its actions.",
        discussion: """
        Serves a page on 127.0.0.1 (the address is printed). Each browser tab gets its own game: a context, \
        then one frame after another, generated as `nanowm rollout` generates them (sliding context, \
        sequential DDIM, cached causal sampling), with the action of the keys you hold. The built-in wall \
        takes arrows or WASD and shows the true simulator beside the model, driven by the same keys; any \
        other dataset needs --action-map FILE, JSON such as \
        {"rest": [0, 0], "keys": {"ArrowRight": [1, 0], "KeyW": [0, -1]}, "low": [-1, -1], "high": [1, 1]} \
        (keys are the browser's KeyboardEvent.code; held keys add their vectors to rest).

        Buttons: pause, step once (while paused), reset (the same start), new start, record. A recording \
        is an MP4 of the frames and a safetensors clip (context latents, actions, every latent) in \
        --recordings; the page prints the `nanowm rollout` command that regenerates it exactly.

        Example:
          nanowm play runs/quickstart --steps 10
        """)

    @Argument(help: ArgumentHelp("A run folder (its newest checkpoint is played) or a checkpoint file.", valueName: "RUN|CHECKPOINT"))
    var target: String
    @Option(parsing: .unconditional, help: "Port on 127.0.0.1 (0: any free port).") var port = 8765
    @Option(help: "Address to listen on (127.0.0.1 keeps the game on this machine).") var host = "127.0.0.1"
    @Option(help: ArgumentHelp("Where a game starts: start (the built-in wall's rendered start), val:N (validation clip N), or a video file through the run's codec; default start for the built-in wall, else val:0.", valueName: "start|val:N|VIDEO"))
    var context: String?
    @Option(parsing: .unconditional, help: "Context frames the model sees (default: 4, at most the model's window − 1).") var history: Int?
    @Option(name: .customLong("action-map"), help: "JSON key map for datasets other than the built-in wall.") var actionMap: String?
    @Option(help: "Folder for recordings (default: the run folder's play/, else ./play).") var recordings: String?
    @Option(name: .customLong("config"), help: "The checkpoint's training config.yaml (default: the nearest at or above it).") var config: String?
    @Option(help: ArgumentHelp("Where to run.", valueName: "cpu|cuda|cuda:N")) var device = "cpu"
    @Option(parsing: .unconditional, help: "The model's CPU threads (default: all cores but one, which the server needs: on 2 cores, 36 frames/s through the page's socket at 10 steps with 1 thread against 15 with 2).")
    var threads: Int?
    @OptionGroup var diffusion: DiffusionOptions

    func run() throws {
        let (checkpoint, runFolder) = try Self.resolve(target)
        let target = try Device(parsing: device)
        try target.ensureAvailable()
        // libtorch's idle OpenMP threads spin, taking the core the server encodes and sends on.
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        try Torch.setNumThreads(threads ?? Swift.max(1, ProcessInfo.processInfo.activeProcessorCount - 1))
        let trained = try TrainedCheckpoint(checkpoint, configFile: config)
        let choices = try diffusion.choices
        let network = try trained.model(.init(), device: target)
        network.eval()
        let setup = try trained.samplingSetup(choices, defaults: .init(steps: 10, mode: .sequential))
        let folder = recordings.map { URL(fileURLWithPath: $0) }
            ?? (runFolder ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).appendingPathComponent("play")
        let world = try PlayWorld(checkpoint: trained, model: network, device: target, setup: setup,
                                  start: try context.map { try PlayWorld.Start(parsing: $0) }, history: history,
                                  actionMap: actionMap.map { URL(fileURLWithPath: $0) }, recordings: folder)
        guard diffusion.seed >= 0 else { throw ConfigError(.invalidValue, "--seed must be ≥ 0 (got \(diffusion.seed))") }
        let server = PlayServer(world: world, host: host, port: port, seed: UInt64(diffusion.seed))
        let summary = "\(world.start), \(setup.options.steps) DDIM steps"
        try serveUntilStopped({ ready in try await server.run(ready: ready) }, announce: { "play: \($0)  (\(summary); Ctrl-C stops)" })
    }

    /// A run folder's newest checkpoint, or the checkpoint file itself; and the run folder.
    static func resolve(_ target: String) throws -> (checkpoint: String, runFolder: URL?) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isFolder) else {
            throw ConfigError(.invalidValue, "no run folder or checkpoint at \(target); give a run folder (e.g. runs/quickstart) or a checkpoint file")
        }
        guard isFolder.boolValue else { return (target, nil) }
        let folder = URL(fileURLWithPath: target)
        guard let latest = try RunDirectory(folder, create: false).latestCheckpoint else {
            throw ConfigError(.invalidValue, "\(target) holds no checkpoint under checkpoints/latest; train it first, or give a checkpoint file")
        }
        return (latest.path, folder)
    }
}

