import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import NanoWMFormats

/// `sample`, `rollout`, `forward` and `codec` take how a checkpoint was trained from its run's
/// config.yaml (a run folder's, a release folder's beside model.safetensors, or --config), so a
/// checkpoint samples correctly with no flags; a flag that contradicts the run is refused unless
/// --override-config; without any config the command names the defaults it assumed.
final class TrainedCheckpointTests: XCTestCase {
    var scratch: TemporaryDirectory!
    override func setUpWithError() throws { scratch = try TemporaryDirectory("trained-checkpoint") }
    override func tearDown() { scratch.remove() }

    private func samples(_ path: String) throws -> Tensor {
        try XCTUnwrap(try SafeTensors.read(path).tensors["samples"], path)
    }

    func testCommandsTakeTheRunsSettings() throws {
        let data = scratch.url.appendingPathComponent("data")
        // x-prediction, unlike the flags' fallback (v), so a command that ignored the run would sample wrongly.
        let train = try NanoWMExecutable.run(["train", "--run-dir", scratch.path("run")] + TinyTraining.overrides(dataDirectory: data))
        XCTAssertEqual(train.status, 0, train.error)
        let checkpoint = try XCTUnwrap(RunDirectory(scratch.url.appendingPathComponent("run"), create: false).latestCheckpoint).path
        try manualSeed(5)
        try SafeTensors.write(["context": try Tensor.randn([1, 1, 3, 16, 16]), "action": try Tensor.randn([1, 3, 2])],
                              to: scratch.path("clip.safetensors"))
        func run(_ command: String, _ checkpoint: String, _ output: String, _ extra: [String] = []) throws -> NanoWMExecutable.Result {
            try NanoWMExecutable.run([command, "--checkpoint", checkpoint, "--input", scratch.path("clip.safetensors"),
                                      "--output", scratch.path(output)] + extra)
        }

        // No flags equals the run's settings spelled out (the quickstart's x-prediction, the
        // evaluation's 2 steps, its scheduling, schedule, zero terminal SNR and stabilisation).
        let plain = try run("sample", checkpoint, "plain.safetensors")
        XCTAssertEqual(plain.status, 0, plain.error)
        XCTAssertFalse(plain.error.contains("assuming"), plain.error)
        let spelled = try run("sample", checkpoint, "spelled.safetensors", [
            "--pred", "x", "--schedule", "squaredcos_cap_v2", "--ztsnr", "true", "--steps", "2", "--mode", "sequential",
            "--history-stabilization", "0.02", "--causal", "true"])
        XCTAssertEqual(spelled.status, 0, spelled.error)
        let expected = try samples(scratch.path("plain.safetensors"))
        try assertExactlyEqual(try samples(scratch.path("spelled.safetensors")), expected, "spelled out")

        // A contradicting flag is refused in one line, and allowed on request (giving other frames).
        try assertCommandFailsWithOneLine(["sample", "--checkpoint", checkpoint, "--input", scratch.path("clip.safetensors"),
                                           "--output", scratch.path("refused.safetensors"), "--pred", "v"],
                                          mentions: ["--pred v contradicts experiment.diffusion.pred_name: x", "--override-config"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("refused.safetensors")))
        let overridden = try run("sample", checkpoint, "overridden.safetensors", ["--pred", "v", "--override-config"])
        XCTAssertEqual(overridden.status, 0, overridden.error)
        XCTAssertGreaterThan(try maxAbsDifference(try samples(scratch.path("overridden.safetensors")), expected), 1e-3)

        // A release folder: model.safetensors beside the run's config.yaml.
        let release = scratch.url.appendingPathComponent("release")
        try FileManager.default.createDirectory(at: release, withIntermediateDirectories: true)
        let converted = try NanoWMExecutable.run(["ckpt", "convert", checkpoint, release.appendingPathComponent("model.safetensors").path])
        XCTAssertEqual(converted.status, 0, converted.error)
        try FileManager.default.copyItem(atPath: scratch.path("run/config.yaml"), toPath: release.appendingPathComponent("config.yaml").path)
        let fromRelease = try run("sample", release.appendingPathComponent("model.safetensors").path, "release.safetensors")
        XCTAssertEqual(fromRelease.status, 0, fromRelease.error)
        try assertExactlyEqual(try samples(scratch.path("release.safetensors")), expected, "release folder")

        // No config anywhere: the reference's defaults, named; --config FILE brings the run back.
        let stray = FileManager.default.temporaryDirectory.appendingPathComponent("stray-\(UUID())")
        try FileManager.default.createDirectory(at: stray, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: stray) }
        let lone = stray.appendingPathComponent("model.ckpt").path
        try FileManager.default.copyItem(atPath: checkpoint, toPath: lone)
        let assumed = try run("sample", lone, "assumed.safetensors")
        XCTAssertEqual(assumed.status, 0, assumed.error)
        XCTAssertTrue(assumed.error.contains("assuming the reference's defaults: causal attention") && assumed.error.contains("v-prediction"),
                      assumed.error)
        XCTAssertGreaterThan(try maxAbsDifference(try samples(scratch.path("assumed.safetensors")), expected), 1e-3,
                             "the defaults sample this x-prediction model differently")
        let named = try run("sample", lone, "named.safetensors", ["--config", scratch.path("run/config.yaml")])
        XCTAssertEqual(named.status, 0, named.error)
        try assertExactlyEqual(try samples(scratch.path("named.safetensors")), expected, "--config")

        // codec: the run's codec (the quickstart's pixels), as if selected by overrides; both at once is refused.
        try SafeTensors.write(["frames": try Tensor.rand([2, 3, 16, 16]) * 2 - 1], to: scratch.path("frames.safetensors"))
        let fromRun = try NanoWMExecutable.run(["codec", "encode", "--checkpoint", checkpoint, "--input", scratch.path("frames.safetensors"),
                                                "--output", scratch.path("run-latents.safetensors")])
        XCTAssertEqual(fromRun.status, 0, fromRun.error)
        let selected = try NanoWMExecutable.run(["codec", "encode", "latent_codec=pixel", "--input", scratch.path("frames.safetensors"),
                                                 "--output", scratch.path("pixel-latents.safetensors")])
        XCTAssertEqual(selected.status, 0, selected.error)
        try assertExactlyEqual(try XCTUnwrap(try SafeTensors.read(scratch.path("run-latents.safetensors")).tensors["latents"]),
                               try SafeTensors.read(scratch.path("pixel-latents.safetensors")).tensors["latents"], "codec")
        try assertCommandFailsWithOneLine(["codec", "encode", "latent_codec=sd_vae", "--checkpoint", checkpoint,
                                           "--input", scratch.path("frames.safetensors"), "--output", scratch.path("x.safetensors")],
                                          mentions: ["with --checkpoint the codec comes from its training config"])

        // rollout: the reference's rollout settings (50 sequential steps) on the run's diffusion.
        let rolled = try run("rollout", checkpoint, "rollout.safetensors", ["--frames", "4"])
        XCTAssertEqual(rolled.status, 0, rolled.error)
        let rolledSpelled = try run("rollout", checkpoint, "rollout-spelled.safetensors", [
            "--frames", "4", "--pred", "x", "--steps", "50", "--mode", "sequential", "--history", "1"])
        XCTAssertEqual(rolledSpelled.status, 0, rolledSpelled.error)
        try assertExactlyEqual(try samples(scratch.path("rollout-spelled.safetensors")), try samples(scratch.path("rollout.safetensors")), "rollout")

        // The reference's dataset-driven rollout: the first validation clips with room for 6
        // frames (the tiny data's held-out episode has 8 steps), as gen / gt / compare videos.
        let folder = scratch.url.appendingPathComponent("rollouts")
        let fromData = try NanoWMExecutable.run(["rollout", "--checkpoint", checkpoint, "--from-dataset", folder.path,
                                                 "--num-samples", "2", "--batch-size", "2", "--frames", "6", "--steps", "2"])
        XCTAssertEqual(fromData.status, 0, fromData.error)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(),
                       ["sample_0000_compare.mp4", "sample_0000_gen.mp4", "sample_0000_gt.mp4",
                        "sample_0001_compare.mp4", "sample_0001_gen.mp4", "sample_0001_gt.mp4"])
        let (gen, gt) = (try MP4Writer.read(folder.appendingPathComponent("sample_0000_gen.mp4")),
                         try MP4Writer.read(folder.appendingPathComponent("sample_0000_gt.mp4")))
        XCTAssertEqual(gen.shape, gt.shape)
        XCTAssertEqual(gen.shape[0], 6)
        XCTAssertEqual(try MP4Writer.probe(folder.appendingPathComponent("sample_0000_compare.mp4")).width, 2 * gt.shape[3] + 6)
        // The context frame is the ground truth itself; generated frames are the model's.
        let first = try (gen[0].to(.float32) - gt[0].to(.float32)).abs().mean().item(Double.self)
        XCTAssertLessThan(first, 3, "context frame: mean |Δ| \(first) of 255")
        try assertCommandFailsWithOneLine(["rollout", "--checkpoint", checkpoint, "--from-dataset", folder.path, "--frames", "9"],
                                          mentions: ["no validation clip's trajectory holds 9 frames"])
        try assertCommandFailsWithOneLine(["rollout", "--checkpoint", checkpoint, "--input", scratch.path("clip.safetensors"),
                                           "--output", scratch.path("x.safetensors"), "--num-samples", "2"],
                                          mentions: ["--num-samples and --batch-size go with --from-dataset"])
    }
}
