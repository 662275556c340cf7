import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// `nanowm train`: train or fine-tune from composable configs.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
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

        Data-parallel training: `--nproc-per-node N` starts N worker processes on this machine; \
        the same binary also runs under `torchrun --no-python --nproc-per-node N nanowm train …` \
        and under SLURM's `srun`. experiment.training.batch_size is per process (the global batch \
        is N × batch_size, as upstream); the global batch at each step is the same clips and noise \
        whatever N, so N processes reproduce one process with N × batch_size up to rounding. Rank 0 \
        writes the run folder; each worker takes cuda:LOCAL_RANK (--device cuda) or a share of the \
        CPU cores. A worker that dies or hangs stops the others within --dist-timeout with a line \
        naming its rank. Resume works with any number of processes.
        """)

    @OptionGroup var options: RunOptions

    func run() throws { try options.runner().run(.trainingOnly) }
}

/// What `nanowm train` and `nanowm run` take: the overrides and where the run goes.
struct RunOptions: ParsableArguments {
    @Argument(help: "Overrides: group=option, key=value, +key=value, ++key=value, ~key.") var overrides: [String] = []
    @Option(name: .customLong("config-dir"), help: "The folder holding config.yaml (default: the repository's configs/).")
    var configDir: String?
    @Option(name: .customLong("run-dir"), help: "Run folder (default: the configuration's hydra.run.dir).") var runDir: String?
    @Option(help: ArgumentHelp("Where to run.", valueName: "cpu|cuda|cuda:N")) var device = "cpu"
    @Option(name: .customLong("nproc-per-node"),
            help: ArgumentHelp("Start N worker processes on this machine for data-parallel training (as torchrun --standalone would).", valueName: "N"))
    var nprocPerNode: Int?
    @Option(name: .customLong("dist-timeout"),
            help: ArgumentHelp("Seconds the workers of a data-parallel run wait for one another (start-up, every gradient exchange) before stopping with an error naming the rank at fault (default 1800).", valueName: "seconds"))
    var distTimeout: Double?

    /// The runner these options describe, for the composed configuration.
    func runner() throws -> ExperimentRunner {
        setvbuf(stdout, nil, _IOLBF, 0) // progress and results interleave in order when piped
        setvbuf(stderr, nil, _IOLBF, 0) // workers sharing a terminal write whole lines, never interleaved characters
        var runner = ExperimentRunner(composition: try ConfigComposer.locate(configDir: configDir).composition(overrides: overrides))
        runner.runDirectory = runDir.map { URL(fileURLWithPath: $0) }
        runner.device = try Device(parsing: device)
        runner.workers = nprocPerNode
        runner.timeout = distTimeout
        runner.workerArguments = { Self.workerArguments(CommandLine.arguments, runDirectory: $0.path) }
        return runner
    }

    /// This command line for a worker: without --nproc-per-node, with the launcher's run folder.
    static func workerArguments(_ arguments: [String], runDirectory: String) -> [String] {
        var result: [String] = [], skipNext = false
        for argument in arguments.dropFirst() {
            if skipNext { skipNext = false; continue }
            if argument == "--nproc-per-node" || argument == "--run-dir" { skipNext = true; continue }
            if argument.hasPrefix("--nproc-per-node=") || argument.hasPrefix("--run-dir=") { continue }
            result.append(argument)
        }
        return result + ["--run-dir", runDirectory]
    }
}
