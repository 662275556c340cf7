import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import NanoWMFormats
import NanoWMCore

/// `nanowm evaluate` (the evaluate task) end to end on a tiny trained model, its sampling
/// process, and the latent metrics of encoder-only codecs.
final class EvaluateCommandTests: XCTestCase {
    var scratch: TemporaryDirectory!
    override func setUpWithError() throws { scratch = try TemporaryDirectory("evaluate") }
    override func tearDown() { scratch.remove() }

    /// Upstream's evaluation samples on the 1000-step process with the float32
    /// linspace(−1, 999, k+1) grid truncated toward zero (−1, 3, 7, … for k = 250), not on a
    /// process respaced to k steps.
    func testEvaluationSamplesOnTheFullProcessWithTheTruncatedGrid() throws {
        var setup = SamplingSetup()
        setup.options.steps = 250
        setup.respaced = false
        XCTAssertEqual(try setup.make(device: .cpu).process.numTimesteps, 1000)
        setup.respaced = true
        XCTAssertEqual(try setup.make(device: .cpu).process.numTimesteps, 250, "sampling commands keep the respaced process")
        let grid = try PyTorchBaseline.shared.run("O['grid'] = torch.linspace(-1, 999, 251, dtype=torch.float32).long()")["grid"]!
        let matrix = try schedulingMatrix(frames: 2, contextFrames: 1, timesteps: 1000, steps: 250, mode: .sequential)
        XCTAssertEqual(matrix.map { $0[1] }, try grid.toArray(Int64.self).reversed().map(Int.init))
        XCTAssertEqual(Array(matrix.map { $0[1] }.suffix(3)), [7, 3, -1])
    }

    func testEvaluationIsSeededWritesUpstreamsLayoutAndScoresLikeNanowmMetrics() throws {
        let data = scratch.url.appendingPathComponent("data")
        let train = try NanoWMExecutable.run(["train", "--run-dir", scratch.path("train")] + TinyTraining.overrides(dataDirectory: data))
        XCTAssertEqual(train.status, 0, train.error)
        let latest = scratch.url.appendingPathComponent("train/checkpoints/latest")
        let checkpoint = latest.appendingPathComponent(try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: latest.path).first)).path
        let lpips = EvaluationMetricsTests.lpipsFile
        var metrics: [[(name: String, value: Double)]] = []
        for run in ["eval1", "eval2"] {
            let result = try NanoWMExecutable.run(["evaluate", "--run-dir", scratch.path(run)] + TinyTraining.overrides(dataDirectory: data, [
                "experiment.resume_from_checkpoint=\(checkpoint)", "experiment.evaluation.metrics.lpips_model_path=\(lpips)"]))
            XCTAssertEqual(result.status, 0, result.error)
            XCTAssertTrue(result.output.contains("metrics: "), result.output)
            metrics.append(try MetricsFile.readMetrics(scratch.path("\(run)/metrics.json")))
        }
        XCTAssertEqual(metrics[0].map(\.name), ["mse", "psnr", "ssim", "lpips", "val_loss"])
        XCTAssertEqual(metrics[0].map(\.value), metrics[1].map(\.value), "a seeded evaluation repeats exactly")

        let run = scratch.url.appendingPathComponent("eval1")
        let json = try jsonObject(atPath: run.appendingPathComponent("metrics.json").path)
        let settings = json["settings"] as! [String: Any]
        XCTAssertEqual(settings["diffusion_steps"] as? Int, 1000)
        XCTAssertEqual(settings["sampling_steps"] as? Int, 2)
        XCTAssertEqual(settings["seed"] as? Int, 3407)
        XCTAssertTrue((settings["checkpoint_file"] as? String)?.contains("crc32") == true)
        XCTAssertEqual(settings["torch_version"] as? String, Torch.version)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("metrics_per_frame.png").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("config.yaml").path))
        let videos = run.appendingPathComponent("eval_videos/step_0000000")
        let clips = try FileManager.default.contentsOfDirectory(atPath: videos.path).sorted()
        XCTAssertEqual(clips.count, (json["counts"] as! [String: Int])["clips"])
        XCTAssertTrue(clips.allSatisfy { $0.range(of: #"^traj_\d{4}_start_\d{4}$"#, options: .regularExpression) != nil }, "\(clips)")
        let first = videos.appendingPathComponent(clips[0])
        XCTAssertEqual(try MP4Writer.probe(first.appendingPathComponent("pred_video.mp4")).frames, 3)
        XCTAssertEqual(try MP4Writer.probe(first.appendingPathComponent("gt_video.mp4")).frames, 3)
        // raw_data.npz as upstream's np.savez writes it: numpy reads it, pred/gt [3, T, H, W] in [0, 1].
        let npz = try PyTorchBaseline.shared.run("""
        import numpy as np
        d = np.load(\(pythonString(first.appendingPathComponent("raw_data.npz").path)))
        O['pred'] = torch.from_numpy(d['pred']); O['gt'] = torch.from_numpy(d['gt'])
        """)
        XCTAssertEqual(npz["pred"]?.shape, [3, 3, 16, 16])
        XCTAssertGreaterThanOrEqual(try npz["pred"]!.min().item(Double.self), 0)
        XCTAssertLessThanOrEqual(try npz["pred"]!.max().item(Double.self), 1)

        // The saved raw frames scored by nanowm metrics give the evaluation's numbers (up to the
        // float32 rounding of the [0, 1] round trip).
        let rescored = scratch.path("rescored.json")
        let result = try NanoWMExecutable.run(["metrics", "--pred", run.appendingPathComponent("eval_videos").path, "--output", rescored,
                                                "--context", "1", "--lpips", lpips])
        XCTAssertEqual(result.status, 0, result.error)
        for (ours, again) in zip(metrics[0], try MetricsFile.readMetrics(rescored)) {
            XCTAssertEqual(ours.name, again.name)
            XCTAssertEqual(ours.value, again.value, accuracy: 1e-5 * Swift.max(1, abs(ours.value)), ours.name)
        }
    }

    /// The evaluate task picks validation clips as training validation does, on the built-in
    /// dataset too: the first `validation_size` clips, or the fixed subset drawn with its seed
    /// (NumPy's `RandomState(seed).choice` over the split's clips, as upstream draws it), and
    /// `metrics.json` says which.
    func testEvaluationSelectsValidationClipsAsTrainingDoes() throws {
        let data = scratch.url.appendingPathComponent("data")
        let train = try NanoWMExecutable.run(["train", "--run-dir", scratch.path("train")] + TinyTraining.overrides(dataDirectory: data))
        XCTAssertEqual(train.status, 0, train.error)
        let checkpoint = try XCTUnwrap(RunDirectory(scratch.url.appendingPathComponent("train"), create: false).latestCheckpoint).path
        func evaluate(_ run: String, _ extra: [String]) throws -> (clips: [String], settings: [String: Any]) {
            let result = try NanoWMExecutable.run(["evaluate", "--run-dir", scratch.path(run)] + TinyTraining.overrides(dataDirectory: data, [
                "experiment.resume_from_checkpoint=\(checkpoint)", "experiment.evaluation.batch_size=4"] + extra))
            XCTAssertEqual(result.status, 0, result.error)
            let json = try jsonObject(atPath: scratch.path("\(run)/metrics.json"))
            let clips = try FileManager.default.contentsOfDirectory(atPath: scratch.path("\(run)/eval_videos/step_0000000")).sorted()
            XCTAssertEqual((json["counts"] as? [String: Int])?["clips"], clips.count)
            return (clips, try XCTUnwrap(json["settings"] as? [String: Any]))
        }
        // The tiny data hold one validation episode (5) of 8 steps: clips of 3 frames start at 0…5.
        let first = try evaluate("first", ["dataset.loader.validation_size=4"])
        XCTAssertEqual(first.clips, (0..<4).map { String(format: "traj_0005_start_%04d", $0) })
        XCTAssertEqual(first.settings["validation_selection"] as? String, "the first 4 clips (dataset.loader.validation_size)")

        let subset = try evaluate("subset", ["dataset.loader.validation_fixed_subset_size=3", "dataset.loader.validation_fixed_subset_seed=42"])
        let drawn = try PyTorchBaseline.shared.run("""
        import numpy as np
        O['starts'] = torch.from_numpy(np.random.RandomState(42).choice(6, size=3, replace=False))
        """)["starts"]!.toArray(Int64.self)
        XCTAssertEqual(subset.clips, drawn.map { String(format: "traj_0005_start_%04d", $0) }.sorted())
        XCTAssertTrue((subset.settings["validation_selection"] as? String)?.contains("fixed subset of 3 clips drawn with seed 42") == true)
    }

    /// Upstream's LatentMetricsLogger formulas, live in PyTorch, on two batches of unequal size
    /// (Lightning's epoch value is the batch-size-weighted mean).
    func testLatentMetricsEqualUpstreamsFormulas() throws {
        try manualSeed(3)
        let batches = try [3, 1].map { b in (try Tensor.randn([b, 4, 8, 2, 2]), try Tensor.randn([b, 4, 8, 2, 2]) * 0.5 + 0.1) }
        var accumulator = LatentMetricAccumulator()
        for (p, g) in batches { try accumulator.add(prediction: p, truth: g, contextFrames: 1) }
        let ours = accumulator.summary(clips: 4, contextFrames: 1, frames: 4).metrics
        var inputs: [String: Tensor] = [:]
        for (i, (p, g)) in batches.enumerated() { inputs["p\(i)"] = p; inputs["g\(i)"] = g }
        let python = try PyTorchBaseline.shared.run("""
        names = ['latent_mse', 'latent_nmse', 'latent_mae', 'latent_rmse', 'latent_cosine_distance']
        sums, weight = [0.0] * 5, 0
        for i in range(2):
            pred, gt = I[f'p{i}'][:, 1:], I[f'g{i}'][:, 1:]
            diff = pred.float() - gt.float()
            mse = diff.square().mean(); mae = diff.abs().mean(); rmse = torch.sqrt(mse.clamp_min(0.0))
            nmse = mse / gt.float().square().mean().clamp_min(1e-12)
            cos = 1.0 - F.cosine_similarity(pred.reshape(pred.shape[0], -1), gt.reshape(gt.shape[0], -1), dim=1).mean()
            for k, v in enumerate([mse, nmse, mae, rmse, cos]): sums[k] += float(v) * pred.shape[0]
            weight += pred.shape[0]
        for k, n in enumerate(names): O[n] = torch.tensor(sums[k] / weight, dtype=torch.float64)
        """, inputs: inputs)
        XCTAssertEqual(ours.map(\.name), LatentMetricAccumulator.names)
        for (name, value) in ours {
            XCTAssertEqual(value, try python[name]!.item(Double.self), accuracy: 1e-6 * Swift.max(1, abs(value)), name)
        }
    }
}
