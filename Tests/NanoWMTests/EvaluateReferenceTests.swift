import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest

/// `nanowm evaluate` against the reference's evaluate task itself: Tests/Fixtures/evaluate holds
/// what the reference's `main.py experiment=evaluate_only` computed under Hydra and Lightning
/// (make_evaluate_fixtures.py) on a small checkpoint and the point-maze test dataset — the
/// metrics its `validate()` returned and every clip's raw_data.npz. Ours must make the same
/// random draws in the same order (`EvaluationDraws`) to give the same predictions.
///
/// Tolerances: the 1e-5 on predictions and 1e-4 relative on metrics, or, where more,
/// four times how far the reference's own results moved when rerun under
/// ATEN_CPU_CAPABILITY=default (`pred_alt_distance`, `metrics_alt`), plus one float32 rounding:
/// another CPU runs other kernels (Tests/Fixtures/README.md). A wrong or missing draw moves
/// predictions by the noise scale (≫ 1e-2).
final class EvaluateReferenceTests: XCTestCase {
    var scratch: TemporaryDirectory!
    override func setUpWithError() throws { scratch = try TemporaryDirectory("evaluate-reference") }
    override func tearDown() { scratch.remove() }

    /// The fixture's model is causal and samples sequentially, so this runs cached sampling
    /// (the same draws, the context computed once per frame); the next test runs the
    /// reference's whole-window steps.
    func testPixelEvaluationReproducesTheReferenceTask() throws {
        try reproduce("pixel", codec: ["latent_codec=pixel"])
    }

    func testPixelEvaluationWithoutTheCacheReproducesTheReferenceTask() throws {
        try reproduce("pixel", codec: ["latent_codec=pixel", "experiment.evaluation.cached_sampling=false"])
    }

    func testSDVAEEvaluationReproducesTheReferenceTask() throws {
        let exported = scratch.path("vae.pt")
        let vae = FixtureFile.directory.appendingPathComponent("evaluate/sd_vae_tiny").path
        XCTAssertEqual(try CodecTests.runExport(["sd_vae", vae, exported, "--image-size=16"]), 0, "export_codec.py")
        try reproduce("sd_vae", codec: ["latent_codec=sd_vae", "latent_codec.torchscript=\(exported)"])
    }

    /// With experiment.evaluation.metrics.evaluate=false the reference's validation samples
    /// nothing and logs only val_loss; so do we.
    func testWithoutMetricsOnlyTheValidationLossIsComputed() throws {
        let run = scratch.url.appendingPathComponent("run")
        let result = try NanoWMExecutable.run(["evaluate", "--run-dir", run.path] + (try overrides("pixel"))
                                              + ["latent_codec=pixel", "experiment.evaluation.metrics.evaluate=false"])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("validation loss only"), result.output)
        let metrics = try MetricsFile.readMetrics(run.appendingPathComponent("metrics.json").path)
        XCTAssertEqual(metrics.map(\.name), ["val_loss"])
        XCTAssertTrue(metrics[0].value.isFinite && metrics[0].value > 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("eval_videos").path))
    }

    func reproduce(_ name: String, codec: [String]) throws {
        let fixture = try FixtureFile("evaluate/\(name)")
        let run = scratch.url.appendingPathComponent("run")
        let result = try NanoWMExecutable.run(["evaluate", "--run-dir", run.path] + (try overrides(name)) + codec)
        XCTAssertEqual(result.status, 0, result.error)
        let settings = try XCTUnwrap(try jsonObject(atPath: run.appendingPathComponent("metrics.json").path)["settings"] as? [String: Any])
        XCTAssertEqual(settings["cached_sampling"] as? Bool, !codec.contains("experiment.evaluation.cached_sampling=false"),
                       "metrics.json says which sampling ran")
        try checkAgainstReference(name, fixture: fixture, run: run)
    }

    /// The reference's command line in our keys: the same overrides, except that the model is
    /// spelled out (the fixture script gave the reference a preset for this size) and the codec
    /// (given by the caller) is ours.
    func overrides(_ name: String) throws -> [String] {
        let fixture = try FixtureFile("evaluate/\(name)")
        let checkpoint = FixtureFile.directory.appendingPathComponent("evaluate/checkpoint_\(name).ckpt").path
        // A copy of the dataset: reading it writes its statistics cache beside it.
        let datasets = scratch.url.appendingPathComponent("datasets")
        try FileManager.default.createDirectory(at: datasets, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: FixtureFile.directory.appendingPathComponent("datasets/point_maze"),
                                         to: datasets.appendingPathComponent("point_maze"))
        var overrides: [String] = []
        for argument in try XCTUnwrap(fixture.json("overrides") as? [String]) {
            switch argument {
            case "model=nanowm_s2": overrides.append("model=nanowm_tiny")
            case "model.arch=NanoWM-Tiny/2":
                overrides += ["model.hidden_size=32", "model.depth=2", "model.num_heads=2", "model.patch_size=2", "model.mlp_ratio=4.0"]
            case let a where a.hasPrefix("latent_codec") || a == "logger.name=none": continue
            default:
                overrides.append(argument.replacingOccurrences(of: "@DATASETS", with: datasets.path)
                    .replacingOccurrences(of: "@CHECKPOINT", with: checkpoint))
            }
        }
        return overrides
    }

    func checkAgainstReference(_ name: String, fixture: FixtureFile, run: URL) throws {
        // The clips and their predictions.
        let clips = try XCTUnwrap(fixture.json("clips") as? [String])
        let videos = run.appendingPathComponent("eval_videos/step_0000000")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: videos.path).sorted(), clips)
        let raw = try PyTorchBaseline.shared.run("""
        import numpy as np
        files = [np.load(p) for p in [\(clips.map { pythonString(videos.appendingPathComponent($0).appendingPathComponent("raw_data.npz").path) }.joined(separator: ", "))]]
        O['pred'] = torch.from_numpy(np.stack([f['pred'] for f in files]))
        O['gt'] = torch.from_numpy(np.stack([f['gt'] for f in files]))
        """)
        let epsilon = Double(Float.ulpOfOne)
        for (key, distanceKey) in [("gt", "gt_alt_distance"), ("pred", "pred_alt_distance")] {
            let expected = try fixture.tensor(key)
            let moved = try XCTUnwrap(Double(try XCTUnwrap(fixture.metadata[distanceKey])))
            let tolerance = Swift.max(1e-5, 4 * (moved + epsilon))
            let distance = try maxAbsDifference(try XCTUnwrap(raw[key]), expected)
            XCTAssertLessThanOrEqual(distance, tolerance, "\(name) \(key): max|Δ| \(distance)")
            print("evaluate \(name) \(key) vs the reference: max|Δ| \(distance) (reference moved \(moved), allowed \(tolerance))")
        }

        // The metrics validate() returned, as metrics.json holds them.
        let reference = try XCTUnwrap(fixture.json("metrics") as? [String: Double])
        let alternative = try XCTUnwrap(fixture.json("metrics_alt") as? [String: Double])
        let ours = Dictionary(uniqueKeysWithValues: try MetricsFile.readMetrics(run.appendingPathComponent("metrics.json").path).map { ($0.name, $0.value) })
        for (metric, key) in [("mse", "val_eval/mse"), ("psnr", "val_eval/psnr"), ("ssim", "val_eval/ssim"), ("val_loss", "val_loss")] {
            let expected = try XCTUnwrap(reference[key]), moved = abs(expected - (alternative[key] ?? expected))
            let tolerance = Swift.max(1e-4 * abs(expected), 4 * (moved + epsilon * abs(expected)))
            let value = try XCTUnwrap(ours[metric], "metrics.json lacks \(metric)")
            XCTAssertEqual(value, expected, accuracy: tolerance, "\(name) \(metric)")
            print("evaluate \(name) \(metric): \(value) vs the reference's \(expected) (allowed ±\(tolerance))")
        }
        let settings = try XCTUnwrap(try jsonObject(atPath: run.appendingPathComponent("metrics.json").path)["settings"] as? [String: Any])
        XCTAssertTrue((settings["seeding"] as? String)?.hasPrefix("the reference's evaluate task") == true, "\(settings)")
    }
}
