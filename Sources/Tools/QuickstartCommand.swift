import ArgumentParser
import Foundation
import NanoWM
import NanoWMConfiguration
import NanoWMCore

/// `nanowm quickstart`: the README's main command.
struct QuickstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Generate data, train a small world model, evaluate it, roll it out and show the results.",
        discussion: """
        Runs entirely on this machine with nothing to download: the built-in wall environment (a point \
        agent, a wall with a door, 2-D actions) provides the data, pixels are the latent space. The run \
        folder receives the checkpoint, metrics.json, TensorBoard logs, rollout.mp4 and rollout.gif \
        (ground truth beside prediction), rollout_psnr.png and samples.png. Finally the model plans: CEM \
        with the world model reaches goals a few actions away along held-out trajectories (planning=quickstart; \
        planning_results/ holds the results and episode_000.mp4), reported beside random actions and \
        CEM with the true simulator as the model. The time of each phase is printed.

        Any configuration can be changed with overrides, e.g. `nanowm quickstart experiment.training.max_steps=2000`.

        With --input CLIP (a video, or safetensors `frames` [1, K, 3, H, W] in [−1, 1]) and --actions FILE \
        (safetensors `action` [1, N, 2], one 2-D action per frame), the trained model is also rolled out \
        from your clip into input_rollout.mp4.
        """)

    @Argument(help: "Config overrides on top of experiment=quickstart.") var overrides: [String] = []
    @Option(name: .customLong("run-dir"), help: "Run folder (default: runs/quickstart-<time>).") var runDir: String?
    @Option(name: .customLong("config-dir"), help: "The folder holding config.yaml (default: the repository's configs/).")
    var configDir: String?
    @Option(help: "A clip to roll the trained model out from: a video or safetensors `frames` in [−1, 1].") var input: String?
    @Option(help: "Safetensors file with `action` [1, N, 2] for --input (when the clip has none).") var actions: String?
    @Option(name: .customLong("plan-only"), help: ArgumentHelp("Run only the planning phase on a finished quickstart run folder (its newest checkpoint); the overrides set planning.*.", valueName: "RUN"))
    var planOnly: String?

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0) // progress and results interleave in order when piped
        if let planOnly {
            let composition = try ConfigComposer.locate(configDir: configDir).composition(overrides: Quickstart.baseOverrides + overrides)
            let result = try QuickstartPlanning.run(savedRun: URL(fileURLWithPath: planOnly), composition: composition)
            if let video = result.video { print("  plan video   \(video)  (executed frames | goal)") }
            return
        }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let folder = URL(fileURLWithPath: runDir ?? "runs/quickstart-\(stamp)")
        let clip = input.map { Quickstart.UserClip(input: $0, actions: actions) }
        if clip == nil, actions != nil { throw ValidationError("--actions goes with --input") }
        let (artifacts, metrics) = try Quickstart.run(overrides: overrides, runDirectory: folder, configDir: configDir, clip: clip)
        print("")
        print(String(format: "done in %.0f s. The world model beats copying the last frame by %+.2f dB PSNR on held-out clips.",
                     metrics.seconds, metrics.evaluation.psnrGainOverCopyLast))
        print("  run folder   \(artifacts.runDirectory)")
        print("  checkpoint   \(artifacts.checkpoint)")
        print("  metrics      \(artifacts.metrics)")
        print("  video        \(artifacts.video)  (ground truth | prediction)")
        print("  gif          \(artifacts.gif)")
        print("  plot         \(artifacts.plot)  (PSNR per rollout frame)")
        print("  samples      \(artifacts.samples)  (held-out clips: truth above prediction)")
        if let planning = metrics.planning {
            print("  planning     \(planning.results)  (\(planning.worldModelSuccesses)/\(planning.goals) goals reached; random actions \(planning.randomActionSuccesses), CEM on the simulator \(planning.simulatorSuccesses))")
        }
        if let video = artifacts.planningVideo { print("  plan video   \(video)  (executed frames | goal)") }
        print("  tensorboard  tensorboard --logdir \(artifacts.tensorboard)")
        if let rollout = artifacts.inputRollout { print("  your clip    \(rollout)  (rolled out from --input)") }
    }
}
