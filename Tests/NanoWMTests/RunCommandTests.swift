import Foundation
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore

/// `nanowm run` and the checks every run passes before it writes anything: the tasks of
/// experiment.tasks, every key's treatment (honoured, ignored here, refused), and the dataset,
/// codec and model fitting together.
final class RunCommandTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var runFolder: URL { scratch.url.appendingPathComponent("runs/run") }
    private var dataFolder: URL { scratch.url.appendingPathComponent("data") }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("run-command-tests") }
    override func tearDown() { scratch.remove() }

    /// Runs `nanowm` with a run folder and data folder in the scratch space, expecting it to
    /// fail with one line that contains `expected`, and to leave neither folder behind.
    private func assertRefusedBeforeWriting(_ arguments: [String], _ expected: String...,
                                            file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try NanoWMExecutable.run(arguments + ["--run-dir", runFolder.path, "dataset_dir=\(dataFolder.path)"])
        XCTAssertNotEqual(result.status, 0, result.output, file: file, line: line)
        let lines = result.error.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.error, file: file, line: line)
        for text in expected { XCTAssertTrue(result.error.contains(text), "'\(text)' not in: \(result.error)", file: file, line: line) }
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
        XCTAssertEqual(left, [], "a failed start left \(left) behind", file: file, line: line)
    }

    func testEvaluateOnlyAndPlanningNeverTrain() throws {
        try assertRefusedBeforeWriting(["train", "experiment=evaluate_only"],
                                       "experiment=evaluate_only runs task 'evaluate', not training, so nanowm train refuses it; use nanowm run")
        try assertRefusedBeforeWriting(["train", "experiment=planning", "planning=builtin_wall"],
                                       "experiment=planning runs task 'planning', not training, so nanowm train refuses it; use nanowm run")
        // `run` plans, and a planning run without a checkpoint stops before writing anything.
        try assertRefusedBeforeWriting(["run", "experiment=planning", "planning=builtin_wall"], "ckpt_path is not set")
        // The evaluate task runs, but only with a checkpoint to evaluate.
        let evaluateOnly = ["experiment.name=evaluate", "experiment.tasks=[evaluate]"]
        try assertRefusedBeforeWriting(["run"] + TinyTraining.overrides(dataDirectory: dataFolder, evaluateOnly),
                                       "the evaluate task needs the checkpoint to evaluate: pass experiment.resume_from_checkpoint=PATH")
        try assertRefusedBeforeWriting(["evaluate"] + TinyTraining.overrides(dataDirectory: dataFolder, ["experiment.resume_from_checkpoint=/nonexistent.ckpt"]),
                                       "experiment.resume_from_checkpoint: no file at /nonexistent.ckpt")
        let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID()).ckpt").path
        FileManager.default.createFile(atPath: checkpoint, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        try assertRefusedBeforeWriting(["evaluate"] + TinyTraining.overrides(dataDirectory: dataFolder, [
            "experiment.resume_from_checkpoint=\(checkpoint)", "experiment.evaluation.metrics.lpips_model_path=/nonexistent/lpips.pt"]),
                                       "experiment.evaluation.metrics.lpips_model_path /nonexistent/lpips.pt: no such file",
                                       "scripts/export_metric_nets.py lpips")
        // Across workers it is checked once, before any starts (not once per worker).
        try assertRefusedBeforeWriting(["evaluate", "--nproc-per-node", "2"] + TinyTraining.overrides(dataDirectory: dataFolder, [
            "experiment.resume_from_checkpoint=\(checkpoint)", "experiment.evaluation.metrics.lpips_model_path=/nonexistent/lpips.pt"]),
                                       "experiment.evaluation.metrics.lpips_model_path /nonexistent/lpips.pt: no such file")
        try assertRefusedBeforeWriting(["evaluate"] + TinyTraining.overrides(dataDirectory: dataFolder, ["experiment.evaluation.scheduling_mode=zigzag"]),
                                       "experiment.evaluation.scheduling_mode: unknown scheduling mode 'zigzag'")
        try assertRefusedBeforeWriting(["run", "experiment=quickstart", "experiment.tasks=[planning]"],
                                       "experiment.tasks: task 'planning' is not one of experiment 'train'")
    }

    func testRefusedKeyValueStopsWithOneLine() throws {
        try assertRefusedBeforeWriting(["train"] + TinyTraining.overrides(dataDirectory: dataFolder, ["experiment.infra.num_nodes=2"]),
                                       "experiment.infra.num_nodes=2 is not supported")
        try assertRefusedBeforeWriting(["train"] + TinyTraining.overrides(dataDirectory: dataFolder, ["dataset.loader.normalize_action=true"]),
                                       "dataset.loader.normalize_action=true")
    }

    func testUnavailableDatasetOrCodecAndMismatchedShapesLeaveNothing() throws {
        // A recorded dataset whose files are not there: named before the codec is even loaded.
        try assertRefusedBeforeWriting(["train", "experiment=dino_wm_pusht"], "point_maze/states.pth: missing")
        try assertRefusedBeforeWriting(["train", "experiment=dino_wm_pusht", "dataset=dino_wm/pusht"], "pusht_noise/train/states.pth: missing")
        try assertRefusedBeforeWriting(["train", "dataset=builtin/wall", "latent_codec.torchscript=/nonexistent/sd_vae.pt"],
                                       "latent_codec=sd_vae needs its network exported to TorchScript at /nonexistent/sd_vae.pt",
                                       "scripts/export_codec.py sd_vae")
        // The B/2 model takes 4×32×32 latents; the pixel codec makes 3×64×64 of 64×64 frames.
        try assertRefusedBeforeWriting(["train", "dataset=builtin/wall", "latent_codec=pixel"], "3×64×64", "4×32×32")
    }

    /// The rest of the checks, in process (each is the same RunPlan the commands build).
    func testMismatchedSettingsAreRefusedBeforeWriting() throws {
        let composer = try ConfigComposer.locate()
        func tiny(_ override: String) -> [String] { TinyTraining.overrides(dataDirectory: dataFolder, [override]) }
        let refusals: [([String], String)] = [
            (["experiment=quickstart", "model=nanowm_b2"], "model.patch_size=8 conflicts with model.arch=NanoWM-B/2"),
            (tiny("model.image_size=32"), "model.image_size is 32 but the dataset's frames are 16×16"),
            (tiny("experiment.training.batch_size=0"), "experiment.training.batch_size must be positive"),
            (tiny("experiment.diffusion.pred_name=z"), "experiment.diffusion.pred_name: unknown prediction target 'z'"),
            (tiny("dataset.loader.split_ratio=1.0"), "dataset.loader.split_ratio=1.0 must lie strictly between 0 and 1"),
            (tiny("model.n_context_frames=3"), "model.n_context_frames=3 leaves nothing to predict"),
            (tiny("dataset.frame_interval=0"), "dataset.frame_interval must be positive, got 0"),
            (tiny("dataset.spec.action_dim=3"), "dataset.spec.action_dim is 3"),
            (tiny("experiment.pretrained=/no/such.ckpt"), "experiment.pretrained: no file at /no/such.ckpt"),
        ]
        for (overrides, expected) in refusals {
            let override = overrides.last!
            let composition = try composer.composition(overrides: overrides)
            assertOneLineError({ try RunPlan(composition: composition, runDirectory: runFolder) }, mentions: [expected])
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path), [])
    }

    /// A start that fails after the folder was made (here: the data folder is a file, so no
    /// data can be generated) removes the folder it created.
    func testStartFailingAfterTheFolderRemovesIt() throws {
        try Data().write(to: dataFolder)
        let result = try NanoWMExecutable.run(["train", "--run-dir", runFolder.path]
                                              + TinyTraining.overrides(dataDirectory: dataFolder))
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url.appendingPathComponent("runs").path), result.output)
    }

    /// `nanowm run` trains when experiment.tasks is [training], naming the ignored keys once.
    func testRunTrainsAndNamesIgnoredKeysOnce() throws {
        let result = try NanoWMExecutable.run(["run", "--run-dir", runFolder.path]
                                              + TinyTraining.overrides(dataDirectory: dataFolder, ["experiment.training.max_steps=1"]))
        XCTAssertEqual(result.status, 0, result.error)
        let ignored = result.output.split(separator: "\n").filter { $0.hasPrefix("ignored here: ") }
        XCTAssertEqual(ignored.count, 1, result.output)
        for key in ["logger.*", "planning.*", "experiment.infra.{num_workers, compile"] {
            XCTAssertTrue(ignored.first?.contains(key) ?? false, "\(key) not in: \(ignored)")
        }
        // Inert keys (no effect upstream either) and null ones ask for nothing, so are not named.
        for key in ["validation_size", "num_classes", "ckpt_path", "log_every_n_train_steps", "buffer_size", "max_batchsize", "wandb"] {
            XCTAssertFalse(ignored.first?.contains(key) ?? true, "\(key) in: \(ignored)")
        }
        XCTAssertNotNil(try RunDirectory(runFolder).latestCheckpoint)
        XCTAssertFalse(result.output.contains("not run:"), result.output)
    }

    /// `nanowm train` on an experiment that trains and evaluates trains, and says the
    /// evaluate task is not run; `nanowm run` runs both.
    func testTrainNamesTheTasksItLeavesOut() throws {
        let composition = try ConfigComposer.locate().composition(overrides: TinyTraining.overrides(
            dataDirectory: dataFolder, ["experiment.tasks=[training,evaluate]"]))
        let plan = try RunPlan(composition: composition, runDirectory: runFolder)
        XCTAssertEqual(plan.tasksNotRun, [.evaluate])
        XCTAssertEqual(plan.tasksNotRunLine, "not run: task 'evaluate' (this command runs the training task only)")
        XCTAssertEqual(try RunPlan(composition: composition, runDirectory: runFolder, allTasks: true).tasksNotRun, [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: runFolder.path))
    }

    /// Every key of every shipped experiment, and of every option of every group, has a rule,
    /// so the table cannot silently fall behind the configs.
    func testEveryComposedKeyIsClassified() throws {
        let composer = try ConfigComposer.locate()
        var commandLines = composer.options(in: "experiment").map { ["experiment=\($0)"] }
        for group in ["model", "dataset", "latent_codec", "planning"] {
            commandLines += composer.options(in: group).map { ["\(group)=\($0)"] }
        }
        commandLines.append(["+planning/planner=cem"])
        XCTAssertGreaterThan(commandLines.count, 30)
        for overrides in commandLines {
            let composition = try composer.composition(overrides: overrides)
            // Base files offered as options (dataset=dino_wm/base) lack keys the run folder's
            // name interpolates; the hydra section is checked with the experiments.
            let config = overrides[0].hasPrefix("experiment=")
                ? try composition.resolved() : try composition.config.removingHydra.resolved(composition.resolveContext)
            let unclassified = config.leafPaths.filter { KeyPolicy.rule(for: $0) == nil }
            XCTAssertEqual(unclassified, [], "\(overrides)")
        }
        let patterns = KeyPolicy.table.map(\.pattern)
        XCTAssertEqual(Set(patterns).count, patterns.count, "a key has two rules")
    }

    func testKeyReview() throws {
        let composer = try ConfigComposer.locate()
        func review(_ extra: [String]) throws -> [String] {
            try KeyPolicy.review(try composer.composition(overrides: ["experiment=quickstart"] + extra).resolved())
        }
        let ignored = try review([])
        XCTAssertTrue(ignored.contains("experiment.infra.num_workers") && !ignored.contains { $0.hasPrefix("wandb") }, "\(ignored)")
        XCTAssertFalse(ignored.contains("experiment.training.max_steps"))
        XCTAssertEqual(Set(ignored).count, ignored.count, "named more than once")
        // A key nothing reads is named as ignored; a refused key at its allowed value passes.
        XCTAssertTrue(try review(["+experiment.note=hi"]).contains("experiment.note"))
        XCTAssertFalse(ignored.contains("ckpt_path"))
        XCTAssertTrue(try review(["ckpt_path=/runs/x.ckpt"]).contains("ckpt_path"))
        XCTAssertNoThrow(try review(["dataset.loader.action_scale=1.0", "experiment.infra.num_nodes=1"]))
        XCTAssertThrowsError(try review(["experiment.training.checkpointing.latest.save_top_k=3"])) { error in
            XCTAssertEqual((error as? ConfigError)?.kind, .unsupported, "\(error)")
        }
    }
}
