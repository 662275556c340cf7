import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest

/// `nanowm data info|clip|subset` and `nanowm train` on a recorded dataset, as a user runs
/// them, against what upstream's dataset classes returned for the same files.
final class DataCommandTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var dataRoot: URL { scratch.url.appendingPathComponent("data") }

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory("data-commands")
        try DatasetFixtures.copy(to: dataRoot)
    }

    override func tearDown() { scratch.remove() }

    private func run(_ arguments: [String]) throws -> NanoWMExecutable.Result {
        try NanoWMExecutable.run(arguments)
    }

    func testClipWritesUpstreamsItemAndSubsetWritesUpstreamsFile() throws {
        let ref = try DatasetFixtures.reference("point_maze")
        let output = scratch.path("clip.safetensors")
        let clip = try run(["data", "clip"] + DatasetFixtures.overrides("point_maze", dataRoot: dataRoot)
                           + ["--split", "val", "--index", "2", "--output", output])
        XCTAssertEqual(clip.status, 0, clip.error)
        let written = try SafeTensors.read(output).tensors
        try assertClose(written["video"]!, try ref.tensors["val.video"]!.select(dim: 0, index: 2), atol: 1e-6)
        try assertClose(written["action"]!, try ref.tensors["val.action"]!.select(dim: 0, index: 2), atol: 1e-6)

        let subset = scratch.path("subset.json")
        let drawn = try run(["data", "subset"] + DatasetFixtures.overrides("point_maze", dataRoot: dataRoot)
                            + ["--size", "4", "--seed", "42", "--output", subset])
        XCTAssertEqual(drawn.status, 0, drawn.error)
        XCTAssertEqual(try String(contentsOfFile: subset), ref.info["subset_json"] as? String)

        let info = try run(["data", "info"] + DatasetFixtures.overrides("point_maze", dataRoot: dataRoot))
        XCTAssertEqual(info.status, 0, info.error)
        for line in ["trajectories: 20 (train 18, validation 2)", "train 48, validation 11",
                     "action dimension: 2 per step × frame_interval 5 = 10", "action mean (train): ["] {
            XCTAssertTrue(info.output.contains(line), "'\(line)' not in:\n\(info.output)")
        }
        let bad = try run(["data", "clip"] + DatasetFixtures.overrides("point_maze", dataRoot: dataRoot)
                          + ["--split", "val", "--index", "11", "--output", output])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.error.split(separator: "\n").count, 1, bad.error)
        XCTAssertTrue(bad.error.contains("clip 11 is out of range 0..<11"), bad.error)
    }

    /// Training reads the recorded dataset through the same path, and validates on the fixed
    /// subset it writes into the run folder (16×16 frames: SSIM's 11-pixel window needs them).
    func testTrainOnPointMazeWithFixedSubset() throws {
        let runFolder = scratch.url.appendingPathComponent("run")
        let result = try run(["train", "experiment=dino_wm_point_maze", "--run-dir", runFolder.path, "wandb.enabled=false",
                              "model=nanowm_tiny", "latent_codec=pixel", "model.latent_size=16", "model.patch_size=4",
                              "model.hidden_size=32", "model.depth=2", "model.num_heads=2",
                              "experiment.training.batch_size=2", "experiment.training.max_steps=2",
                              "experiment.training.val_every_n_steps=2", "experiment.training.log_every=1",
                              "experiment.training.checkpointing.latest.every_n_train_steps=2",
                              "experiment.training.checkpointing.across_timesteps.every_n_train_steps=2",
                              "experiment.training.optimizer.lr_warmup_steps=1", "experiment.evaluation.num_sampling_steps=2",
                              "dataset.loader.validation_fixed_subset_size=4"]
                             + DatasetFixtures.overrides("point_maze", dataRoot: dataRoot, imageSize: 16))
        XCTAssertEqual(result.status, 0, result.error + result.output)
        XCTAssertTrue(result.output.contains("data: 48 training clips, 4 validation clips"), result.output)
        let subsetFile = runFolder.appendingPathComponent("validation_subset.json")
        let subset = try String(contentsOf: subsetFile)
        XCTAssertEqual(subset, try DatasetFixtures.reference("point_maze").info["subset_json"] as? String)

        // Evaluation reads the same dataset and the same fixed subset (the training run's JSON),
        // naming each clip folder after its trajectory and start as upstream does.
        let checkpoint = try XCTUnwrap(try RunDirectory(runFolder).latestCheckpoint).path
        let evaluation = scratch.url.appendingPathComponent("evaluation")
        let evaluated = try run(["evaluate", "experiment=dino_wm_point_maze", "--run-dir", evaluation.path, "wandb.enabled=false",
                                 "model=nanowm_tiny", "latent_codec=pixel", "model.latent_size=16", "model.patch_size=4",
                                 "model.hidden_size=32", "model.depth=2", "model.num_heads=2",
                                 "experiment.resume_from_checkpoint=\(checkpoint)", "experiment.evaluation.num_sampling_steps=2",
                                 "dataset.loader.validation_fixed_subset_size=4",
                                 "dataset.loader.validation_fixed_subset_path=\(subsetFile.path)"]
                                + DatasetFixtures.overrides("point_maze", dataRoot: dataRoot, imageSize: 16))
        XCTAssertEqual(evaluated.status, 0, evaluated.error + evaluated.output)
        let metrics = try jsonObject(atPath: evaluation.appendingPathComponent("metrics.json").path)
        XCTAssertEqual((metrics["counts"] as? [String: Int])?["clips"], 4, "\(metrics)")
        let slices = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(subset.utf8)) as? [String: Any])?["slices"] as? [[String: Int]])
        let expected = Set(slices.map { String(format: "traj_%04d_start_%04d", $0["traj_idx"]!, $0["start_frame"]!) })
        let written = try FileManager.default.subpathsOfDirectory(atPath: evaluation.appendingPathComponent("eval_videos").path)
            .compactMap { $0.split(separator: "/").last.map(String.init) }.filter { $0.hasPrefix("traj_") }
        XCTAssertEqual(Set(written), expected)
    }
}
