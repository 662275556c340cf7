import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch

/// `nanowm train`: train or fine-tune from composable configs.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train or fine-tune a world model from configs, with upstream's command-line overrides.",
        discussion: """
        Examples:
          nanowm train experiment=quickstart
          nanowm train experiment=quickstart \\
              experiment.training.max_steps=1000 model.causal=false
          nanowm train experiment=quickstart \\
              experiment.pretrained=path/to/upstream.ckpt
          nanowm train experiment=quickstart \\
              experiment.resume_from_checkpoint=path/to/latest.ckpt

        The run folder (hydra.run.dir, or --run-dir) receives config.yaml, checkpoints/latest and \
        checkpoints/across_timesteps (Lightning-compatible .ckpt), and tensorboard/. Ctrl-C saves a \
        checkpoint and exits. `nanowm config OVERRIDES…` shows what a command line composes to.

        Everything is checked before the run folder is created: an experiment that does not \
        train (experiment=evaluate_only, planning), a dataset or codec this build lacks, shapes \
        that do not fit, or a key value this build cannot honour stops with one line. Keys that \
        cannot apply here are named once (`nanowm config --keys` says why). `nanowm run` runs \
        whatever experiment.tasks lists.
        """)

    @OptionGroup var options: RunOptions

    func run() throws { try options.execute(allTasks: false) }
}

/// What `nanowm train` and `nanowm run` take: the overrides and where the run goes.
struct RunOptions: ParsableArguments {
    @Argument(help: "Overrides: group=option, key=value, +key=value, ++key=value, ~key.") var overrides: [String] = []
    @Option(name: .customLong("config-dir"), help: "The folder holding config.yaml (default: the repository's configs/).")
    var configDir: String?
    @Option(name: .customLong("run-dir"), help: "Run folder (default: the configuration's hydra.run.dir).") var runDir: String?
    @Option(help: ArgumentHelp("Where to run.", valueName: "cpu|cuda|cuda:N")) var device = "cpu"

    /// Checks the run (every task with `allTasks`, else the training task), then trains.
    func execute(allTasks: Bool) throws {
        setvbuf(stdout, nil, _IOLBF, 0) // progress and results interleave in order when piped
        let target = try Device(parsing: device)
        try target.ensureAvailable()
        let composition = try ConfigComposer.locate(configDir: configDir).composition(overrides: overrides)
        let plan = try RunPlan(composition: composition, runDirectory: runDir.map { URL(fileURLWithPath: $0) }, allTasks: allTasks)
        var trained: String?
        if plan.tasks.tasks.contains(.training) {
            let job = try TrainingJob(plan: plan, device: target)
            try job.train()
            trained = job.run.latestCheckpoint?.path
            if let trained { print("checkpoint: \(trained)") }
            print("tensorboard: tensorboard --logdir \(job.run.tensorboard.path)")
        }
        // The evaluate task scores what training just wrote, else experiment.resume_from_checkpoint.
        if allTasks, plan.tasks.tasks.contains(.evaluate) {
            try EvaluationJob.run(plan: plan, checkpoint: trained, device: target)
        }
    }
}
