import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// `nanowm data info|clip|subset`: the recorded datasets as training reads them.
struct DataCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect a recorded dataset (DINO-WM …) the way training and evaluation read it.",
        discussion: """
        The same overrides as a run select the dataset: dataset=dino_wm/point_maze|wall|pusht|rope|granular, \
        dataset_dir=FOLDER (or DATASET_DIR), any dataset.loader.* key, model.num_frames and model.image_size.

        Examples:
          nanowm data info dataset=dino_wm/point_maze dataset_dir=/data/dino_wm
          nanowm data clip dataset=dino_wm/wall dataset_dir=/data/dino_wm --split val --index 0 --output clip.safetensors
          nanowm data subset dataset=dino_wm/pusht dataset_dir=/data/dino_wm --size 256 --seed 42 --output subset.json
        """,
        subcommands: [Info.self, ClipItem.self, Subset.self])

    struct Options: ParsableArguments {
        @Argument(help: "The run's overrides (dataset=…, dataset_dir=…, dataset.loader.*=…).") var overrides: [String] = []
        @Option(name: .customLong("config-dir"), help: "The folder holding config.yaml (default: the repository's configs/).")
        var configDir: String?

        func config() throws -> ConfigNode {
            try ConfigComposer.locate(configDir: configDir).composition(overrides: overrides).resolved()
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print trajectories, clips per split, action dimension and action statistics.",
            discussion: "Computing the statistics the first time reads every training trajectory (a progress line shows it) and caches them in <data_path>/wm_stats_cache/, where upstream caches them.")
        @OptionGroup var options: Options

        func run() throws {
            setvbuf(stdout, nil, _IOLBF, 0)
            var bar: ProgressBar?
            let lines = try DatasetReport.summary(try DatasetSettings(try options.config())) { done, total in
                if bar == nil { bar = ProgressBar("statistics", total: total) }
                bar?.update(done)
            }
            lines.forEach { print($0) }
        }
    }

    struct ClipItem: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clip",
            abstract: "Write one item of a split as upstream's dataset returns it (safetensors video, action).",
            discussion: "video is float32 [T, 3, H, W] in [-1, 1]; action is float32 [T, A], normalised when dataset.loader.normalize_action is true. --split val indexes the whole validation split, before a fixed subset or validation_size narrows it.")
        @OptionGroup var options: Options
        @Option(help: "train or val.") var split: String = "train"
        @Option(help: "The item's index in that split.") var index: Int
        @Option(help: "The .safetensors file to write.") var output: String

        func run() throws {
            guard let which = TrajectorySplit(rawValue: split) else {
                throw ValidationError("--split must be train or val (got \(split))")
            }
            let item = try DatasetReport.item(try DatasetSettings(try options.config()), split: which, index: index)
            try SafeTensors.write(["video": item.video, "action": item.action], to: output)
            print("wrote \(split) item \(index) (trajectory \(item.slice.trajectory), steps \(item.slice.start)..<\(item.slice.end)): video \(item.video.shape), action \(item.action.shape) to \(output)")
        }
    }

    struct Subset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw the fixed validation subset and write it in upstream's validation_subset.json schema.",
            discussion: "The draw is NumPy's RandomState(seed).choice over the validation split's clips, as upstream's, so the file equals the one an upstream run writes and either side reads the other's (dataset.loader.validation_fixed_subset_path=F.json).")
        @OptionGroup var options: Options
        @Option(help: "How many clips (capped at the split's count).") var size: Int
        @Option(help: "The draw's seed.") var seed: Int = 42
        @Option(help: "The .json file to write.") var output: String

        func run() throws {
            let subset = try RecordedDatasets.drawSubset(try DatasetSettings(try options.config()), size: size, seed: seed)
            try subset.write(to: URL(fileURLWithPath: output))
            print("wrote \(subset.slices.count) validation clips (seed \(seed)) to \(output)")
        }
    }
}
