import ArgumentParser
import Foundation
import NanoWM

/// `nanowm run`: upstream's `main.py`; the configuration's experiment.tasks say what runs.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run what the configuration's experiment.tasks list, as upstream's main.py does.",
        discussion: """
        experiment.name picks the experiment (train, evaluate or planning) and experiment.tasks \
        the tasks it runs, in order. This build can run the training task; any other task \
        (evaluate, planning) stops with one line before anything is written.

        Examples:
          nanowm run experiment=quickstart
          nanowm run experiment=quickstart experiment.training.max_steps=1000

        `nanowm train` runs the training task alone; its options are the same.
        """)

    @Argument(help: "Overrides: group=option, key=value, +key=value, ++key=value, ~key.") var overrides: [String] = []
    @Option(name: .customLong("config-dir"), help: "The folder holding config.yaml (default: the repository's configs/).")
    var configDir: String?
    @Option(name: .customLong("run-dir"), help: "Run folder (default: the configuration's hydra.run.dir).") var runDir: String?
    @Option(help: ArgumentHelp("Where to run.", valueName: "cpu|cuda|cuda:N")) var device = "cpu"

    func run() throws {
        // Training is the only task this build has, so a checked plan is a training run.
        try Train.execute(overrides: overrides, configDir: configDir, runDir: runDir, device: device, allTasks: true)
    }
}
