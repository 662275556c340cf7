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
        the tasks it runs, in order. This build runs the training, evaluate and planning tasks \
        (evaluate scores the checkpoint training just wrote, else experiment.resume_from_checkpoint; \
        `nanowm evaluate --help` describes it; `nanowm plan` is the short form of experiment=planning).

        Examples:
          nanowm run experiment=quickstart
          nanowm run experiment=quickstart experiment.training.max_steps=1000
          nanowm run experiment=planning planning=builtin_wall ckpt_path=runs/<run>/checkpoints/latest/<file>.ckpt
          nanowm run experiment=evaluate_only experiment.resume_from_checkpoint=model.ckpt

        `nanowm train` runs the training task alone; its options are the same.
        """)

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.runner().run(.allTasks)
    }
}
