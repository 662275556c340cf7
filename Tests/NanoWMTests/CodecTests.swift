import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMFormats
@testable import NanoWMCore

/// The TorchScript codecs against the Python originals they were exported from: small random
/// diffusers AutoencoderKL, transformers Dinov2Model and VJEPA2Model, saved with
/// save_pretrained in the test run, exported with scripts/export_codec.py, then compared live on
/// the same inputs (seeded posterior samples included).
final class CodecTests: XCTestCase {
    /// Built once per test process: the models' folders and the exported files.
    static let models: Result<TemporaryDirectory, Error> = Result { try makeModels() }

    static func makeModels() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory.removedAtExit("codec-tests")
        _ = try PyTorchBaseline.shared.run("""
        from diffusers.models import AutoencoderKL
        from transformers import Dinov2Config, Dinov2Model, VJEPA2Config, VJEPA2Model
        root = \(pythonString(directory.url.path))
        torch.manual_seed(0)
        AutoencoderKL(down_block_types=('DownEncoderBlock2D',) * 2, up_block_types=('UpDecoderBlock2D',) * 2,
                      block_out_channels=(8, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4,
                      sample_size=32).save_pretrained(root + '/vae')
        Dinov2Model(Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                                 patch_size=14, image_size=56)).save_pretrained(root + '/dino')
        VJEPA2Model(VJEPA2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2.0, patch_size=16,
                                 crop_size=64, frames_per_clip=1, tubelet_size=1, pred_hidden_size=16,
                                 pred_num_hidden_layers=1, pred_num_attention_heads=2)).save_pretrained(root + '/vjepa')
        """)
        for (kind, source, size) in [("sd_vae", "vae", "--image-size=32"), ("webdino", "dino", "--input-size=56"),
                                     ("vjepa2_1", "vjepa", "--input-size=64")] {
            let status = try runExport([kind, directory.path(source), directory.path(source + ".pt"), size])
            guard status == 0 else { throw TorchError.invalidArgument("export_codec.py \(kind) failed with status \(status)") }
        }
        return directory
    }

    @discardableResult
    static func runExport(_ arguments: [String], stderr: Pipe? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PyTorchBaseline.pythonPath)
        process.arguments = [PyTorchBaseline.repositoryRoot.appendingPathComponent("scripts/export_codec.py").path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr ?? FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private func path(_ name: String) throws -> String { try Self.models.get().path(name) }

    /// Upstream's encode_first_stage (posterior.sample() × scaling factor after
    /// torch.manual_seed), the posterior mean, and decode_first_stage.
    func testSDVAEEqualsDiffusers() throws {
        let codec = try SDVAECodec(contentsOf: try path("vae.pt"))
        XCTAssertEqual(codec.file.scalingFactor, 0.18215, "read from the VAE config")
        XCTAssertEqual(codec.latentShape(forFrame: [3, 32, 32]), [4, 16, 16])
        let frames = try Tensor.rand([2, 3, 32, 32]) * 2.0 - 1.0
        try manualSeed(11)
        let sampled = try codec.encode(signed: frames)
        let mean = try codec.encode(signed: frames, draw: .mean)
        let decoded = try codec.decodeToSigned(sampled)
        let torch = try PyTorchBaseline.shared.run("""
        from diffusers.models import AutoencoderKL
        vae = AutoencoderKL.from_pretrained(\(pythonString(try path("vae")))).eval()
        with torch.no_grad():
            posterior = vae.encode(I['x']).latent_dist
            torch.manual_seed(11)
            O['z'] = posterior.sample().mul_(vae.config.scaling_factor)
            O['mean'] = posterior.mode() * vae.config.scaling_factor
            O['x'] = vae.decode(O['z'] / vae.config.scaling_factor).sample
        """, inputs: ["x": frames])
        try assertClose(sampled, torch["z"], atol: 1e-6, "seeded posterior sample")
        try assertClose(mean, torch["mean"], atol: 1e-6, "posterior mean")
        try assertClose(decoded, torch["x"], atol: 1e-6, "decode")
        print("SD-VAE vs diffusers: sample max|Δ| \(try maxAbsDifference(sampled, XCTUnwrap(torch["z"]))), decode \(try maxAbsDifference(decoded, XCTUnwrap(torch["x"])))")
        // A dataset's clip of frames in [0, 1]: x·2 − 1 first, as upstream's dataset.
        try manualSeed(11)
        let clip = try ClipCodec(codec).latents(ofDatasetClips: try ((frames + 1.0) * 0.5).unsqueeze(0))
        try assertClose(try clip.squeeze(0), torch["z"], atol: 1e-5, "encode of a [0, 1] clip")
    }

    /// A batch split into blocks (data-parallel ranks) encodes to the whole batch's latents:
    /// each block's posterior noise is its rows of the whole batch's single draw. The moments
    /// come from convolutions over 2 frames instead of 4, so agreement is to float32 rounding
    /// of the encoder (atol 1e-6, as against diffusers); the control — a block drawing its own
    /// noise — misses by the noise scale.
    func testSDVAEBlocksEncodeAsTheirBatch() throws {
        let codec = try SDVAECodec(contentsOf: try path("vae.pt"))
        let frames = try Tensor.rand([4, 3, 32, 32]) * 2.0 - 1.0
        try manualSeed(3)
        let whole = try codec.encode(signed: frames)
        for share in 0..<2 {
            try manualSeed(3)
            let block = try codec.encode(signed: try frames.narrow(dim: 0, start: 2 * share, length: 2), share: share, of: 2)
            try assertClose(block, try whole.narrow(dim: 0, start: 2 * share, length: 2), atol: 1e-6, "block \(share) of 2")
        }
        try manualSeed(3)
        let alone = try codec.encode(signed: try frames.narrow(dim: 0, start: 2, length: 2))
        XCTAssertGreaterThan(try maxAbsDifference(alone, try whole.narrow(dim: 0, start: 2, length: 2)), 1e-2, "the control must miss")
    }

    /// A Lightning checkpoint's `vae.*` weights replace the exported ones, by name.
    func testSDVAETakesCheckpointWeights() throws {
        let codec = try SDVAECodec(contentsOf: try path("vae.pt"))
        let latents = try Tensor.randn([1, 4, 16, 16])
        let torch = try PyTorchBaseline.shared.run("""
        from diffusers.models import AutoencoderKL
        vae = AutoencoderKL.from_pretrained(\(pythonString(try path("vae")))).eval()
        torch.manual_seed(99)
        with torch.no_grad():
            for p in vae.parameters():
                p.copy_(torch.randn_like(p) * 0.1)
            O['x'] = vae.decode(I['z'] / vae.config.scaling_factor).sample
        for k, v in vae.state_dict().items():
            O['vae.' + k] = v
        """, inputs: ["z": latents])
        var weights = torch
        let expected = weights.removeValue(forKey: "x")
        XCTAssertGreaterThan(try codec.loadWeights(weights), weights.count, "both halves take the shared weights")
        try assertClose(try codec.decodeToSigned(latents), expected, atol: 1e-6, "decode with checkpoint weights")
    }

    /// Upstream's DensePatchLatentCodec.encode, written out in PyTorch on the original model.
    func testSemanticCodecsEqualTransformers() throws {
        let frames = try Tensor.rand([2, 3, 40, 40]) * 2.2 - 1.1 // resized and clamped
        let preprocess = """
        import torch.nn.functional as F
        def preprocess(frames, size):
            x = ((frames.float() + 1.0) * 0.5).clamp(0.0, 1.0)
            if x.shape[-2:] != (size, size):
                x = F.interpolate(x, size=(size, size), mode='bicubic', align_corners=False)
            mean = torch.tensor((0.485, 0.456, 0.406), dtype=x.dtype).view(1, 3, 1, 1)
            std = torch.tensor((0.229, 0.224, 0.225), dtype=x.dtype).view(1, 3, 1, 1)
            return (x - mean) / std
        def grid(tokens, side):
            b, n, d = tokens.shape
            return tokens.float().reshape(b, side, side, d).permute(0, 3, 1, 2).contiguous()
        """
        let torch = try PyTorchBaseline.shared.run(preprocess + "\n" + """
        from transformers import Dinov2Model, VJEPA2Model
        dino = Dinov2Model.from_pretrained(\(pythonString(try path("dino")))).eval()
        vjepa = VJEPA2Model.from_pretrained(\(pythonString(try path("vjepa")))).eval()
        with torch.no_grad():
            O['webdino'] = grid(dino(pixel_values=preprocess(I['x'], 56)).last_hidden_state[:, 1:], 4)
            x = preprocess(I['x'], 64)
            O['vjepa2_1'] = grid(vjepa(pixel_values_videos=x.unsqueeze(1), skip_predictor=True).last_hidden_state, 4)
        """, inputs: ["x": frames])
        for (kind, file) in [("webdino", "dino.pt"), ("vjepa2_1", "vjepa.pt")] {
            let codec = try SemanticCodec(contentsOf: try path(file), kind: kind)
            XCTAssertEqual(codec.latentShape(forFrame: [3, 40, 40]), [32, 4, 4])
            XCTAssertFalse(codec.hasDecoder)
            let latents = try codec.encode(signed: frames)
            try assertClose(latents, torch[kind], atol: 1e-5, kind)
            print("\(kind) vs transformers: max|Δ| \(try maxAbsDifference(latents, XCTUnwrap(torch[kind])))")
            XCTAssertThrowsError(try ClipCodec(codec).decode(try latents.unsqueeze(0))) { XCTAssertTrue("\($0)".contains("encoder-only"), "\($0)") }
        }
    }

    /// Training on the built-in data in SD-VAE latents (the tiny VAE halves 16×16 frames to
    /// 4×8×8), and a model whose latent size does not fit is refused before anything is written.
    func testTrainingRunsOnSDVAELatentsAndAMismatchIsOneLine() throws {
        let scratch = try TemporaryDirectory("codec-training")
        defer { scratch.remove() }
        func overrides(_ size: Int) -> [String] {
            TinyTraining.overrides(dataDirectory: scratch.url.appendingPathComponent("data"), [
                "latent_codec=sd_vae", "latent_codec.torchscript=\(try! path("vae.pt"))", "model.latent_channels=4",
                "model.latent_size=\(size)", "model.patch_size=2", "experiment.training.max_steps=2"])
        }
        var losses: [Double] = []
        let job = try TrainingJob(composition: try ConfigComposer.locate().composition(overrides: overrides(8)),
                                  runDirectory: scratch.url.appendingPathComponent("run"), log: { _ in })
        job.trainer.callbacks.append(StepCallback(afterStep: { _, metrics in losses.append(metrics.loss) }))
        try job.trainer.fit(showProgress: false)
        XCTAssertEqual(losses.count, 2)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        assertOneLineError({ try RunPlan(composition: try ConfigComposer.locate().composition(overrides: overrides(16)),
                                         runDirectory: scratch.url.appendingPathComponent("wrong")) }, mentions: ["4×8×8", "4×16×16"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("wrong")))
    }

    /// `nanowm codec encode --seed S` is upstream's seeded posterior sample; decode is its decode.
    func testCodecCommandsEqualDiffusers() throws {
        let frames = try Tensor.rand([2, 3, 32, 32]) * 2.0 - 1.0
        try SafeTensors.write(["frames": frames], to: try path("frames.safetensors"))
        let select = ["latent_codec=sd_vae", "latent_codec.torchscript=\(try path("vae.pt"))"]
        for (mode, extra) in [("sample", ["--seed", "7"]), ("mean", ["--mode", "mean"])] {
            let encoded = try NanoWMExecutable.run(["codec", "encode"] + select + ["--input", try path("frames.safetensors"),
                                                   "--output", try path("latents-\(mode).safetensors")] + extra)
            XCTAssertEqual(encoded.status, 0, encoded.error)
        }
        let decoded = try NanoWMExecutable.run(["codec", "decode"] + select + ["--input", try path("latents-sample.safetensors"),
                                               "--output", try path("decoded.safetensors")])
        XCTAssertEqual(decoded.status, 0, decoded.error)
        let torch = try PyTorchBaseline.shared.run("""
        from diffusers.models import AutoencoderKL
        vae = AutoencoderKL.from_pretrained(\(pythonString(try path("vae")))).eval()
        with torch.no_grad():
            posterior = vae.encode(I['x']).latent_dist
            torch.manual_seed(7)
            O['sample'] = posterior.sample() * vae.config.scaling_factor
            O['mean'] = posterior.mode() * vae.config.scaling_factor
            O['frames'] = vae.decode(I['z'] / vae.config.scaling_factor).sample
        """, inputs: ["x": frames, "z": try XCTUnwrap(SafeTensors.read(try path("latents-sample.safetensors")).tensors["latents"])])
        for mode in ["sample", "mean"] {
            let ours = try XCTUnwrap(SafeTensors.read(try path("latents-\(mode).safetensors")).tensors["latents"])
            try assertClose(ours, torch[mode], atol: 1e-6, "nanowm codec encode --mode \(mode)")
        }
        try assertClose(try XCTUnwrap(SafeTensors.read(try path("decoded.safetensors")).tensors["frames"]), torch["frames"],
                        atol: 1e-6, "nanowm codec decode")
        let encoderOnly = try NanoWMExecutable.run(["codec", "decode", "latent_codec=webdino", "latent_codec.torchscript=\(try path("dino.pt"))",
                                                    "--input", try path("latents-sample.safetensors"), "--output", try path("none.safetensors")])
        XCTAssertNotEqual(encoderOnly.status, 0)
        XCTAssertTrue(encoderOnly.error.contains("encoder-only"), encoderOnly.error)
    }

    /// `nanowm sample`/`rollout` in pixels: `frames` or a video in (encoded by the codec after
    /// seeding), decoded frames or a video out; the samples equal the latent path's on the
    /// context the codec gives for the same seed.
    func testSampleAndRolloutInPixels() throws {
        try manualSeed(5)
        let model = try NanoWMModel(NanoWMConfig(inputSize: 16, patchSize: 4, inChannels: 4, hiddenSize: 16, depth: 2, numHeads: 2,
                                                 numFrames: 3, useAction: true, actionDim: 2, causal: true))
        let checkpoint = try path("world.safetensors")
        try Checkpoint.save(try model.stateDict(), to: checkpoint)
        let frames = try Tensor.rand([1, 2, 3, 32, 32]) * 2.0 - 1.0, action = try Tensor.randn([1, 6, 2])
        try SafeTensors.write(["frames": frames, "action": action], to: try path("pixels.safetensors"))
        let codec = try SDVAECodec(contentsOf: try path("vae.pt"))
        try manualSeed(3)
        let context = try codec.encode(signed: try frames.reshape([2, 3, 32, 32])).reshape([1, 2, 4, 16, 16])
        try SafeTensors.write(["context": context, "action": action], to: try path("latents.safetensors"))
        let common = ["--checkpoint", checkpoint, "--steps", "3", "--seed", "3"]
        let pixelOptions = ["--latent-codec", "sd_vae", "--codec-file", try path("vae.pt")]
        func sample(_ extra: [String]) throws {
            let result = try NanoWMExecutable.run(["sample"] + common + extra)
            XCTAssertEqual(result.status, 0, result.error)
        }
        try sample(["--input", try path("pixels.safetensors"), "--output", try path("out-pixels.safetensors")] + pixelOptions)
        try sample(["--input", try path("latents.safetensors"), "--output", try path("out-latents.safetensors")])
        try sample(["--input", try path("pixels.safetensors"), "--output", try path("out.mp4")] + pixelOptions)
        let pixelRun = try SafeTensors.read(try path("out-pixels.safetensors")).tensors
        let samples = try XCTUnwrap(pixelRun["samples"])
        try assertExactlyEqual(samples, try SafeTensors.read(try path("out-latents.safetensors")).tensors["samples"], "pixel vs latent path")
        try assertClose(try XCTUnwrap(pixelRun["frames"]), try codec.decodeToSigned(try samples.reshape([3, 4, 16, 16])).reshape([1, 3, 3, 32, 32]),
                        atol: 1e-5, "decoded frames")
        let video = try MP4Writer.probe(URL(fileURLWithPath: try path("out.mp4")))
        XCTAssertEqual([video.frames, video.width, video.height], [3, 32, 32])

        // A video in (actions beside it), a GIF out, through a rollout.
        try MP4Writer.write(try RGBImage.frames(from: try ((frames.select(dim: 0, index: 0) + 1.0) * 0.5)), fps: 8,
                            to: URL(fileURLWithPath: try path("clip.mp4")))
        let rollout = try NanoWMExecutable.run(["rollout"] + common + pixelOptions + [
            "--input", try path("clip.mp4"), "--actions", try path("pixels.safetensors"), "--frames", "5", "--history", "2",
            "--output", try path("rollout.gif")])
        XCTAssertEqual(rollout.status, 0, rollout.error)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: try path("rollout.gif"))).prefix(6)), Array("GIF89a".utf8))

        for (arguments, expected) in [
            (["--input", try path("clip.mp4")], "needs a codec"),
            (["--input", try path("clip.mp4")] + pixelOptions, "--actions FILE"),
        ] {
            let result = try NanoWMExecutable.run(["sample"] + common + arguments + ["--output", try path("never.mp4")])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.error.contains(expected), result.error)
            XCTAssertEqual(result.error.split(separator: "\n").count, 1, result.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: try path("never.mp4")))
        }
    }

    /// `nanowm encode-dataset` stores the SD-VAE's posterior moments; training through the cache
    /// draws the same posterior samples as training through the encoder (the losses agree up to
    /// the encoder's batch-size rounding), resume through the cache is exact, and a cache made
    /// with another codec file or missing is refused in one line.
    func testLatentCacheTrainsAsTheEncoderDoes() throws {
        let scratch = try TemporaryDirectory("latent-cache")
        defer { scratch.remove() }
        let cache = scratch.path("cache")
        func overrides(_ extra: [String]) -> [String] {
            TinyTraining.overrides(dataDirectory: scratch.url.appendingPathComponent("data"), [
                "latent_codec=sd_vae", "latent_codec.torchscript=\(try! path("vae.pt"))", "model.latent_channels=4",
                "model.latent_size=8", "model.patch_size=2", "experiment.training.max_steps=4",
                "experiment.training.checkpointing.latest.every_n_train_steps=2"] + extra)
        }
        let encoded = try NanoWMExecutable.run(["encode-dataset"] + overrides(["dataset.latent_cache=\(cache)"]))
        XCTAssertEqual(encoded.status, 0, encoded.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache + "/latent_cache.json"), encoded.output)

        func losses(_ name: String, _ extra: [String], until: Int? = nil) throws -> [Double] {
            let job = try TrainingJob(composition: try ConfigComposer.locate().composition(overrides: overrides(extra)),
                                      runDirectory: scratch.url.appendingPathComponent(name), log: { _ in })
            var values: [Double] = []
            job.trainer.callbacks.append(StepCallback(afterStep: { _, metrics in values.append(metrics.loss) }))
            try job.trainer.fit(until: until, showProgress: false)
            return values
        }
        let direct = try losses("direct", [])
        let cached = try losses("cached", ["dataset.latent_cache=\(cache)"])
        XCTAssertEqual(direct.count, 4)
        print("losses through the encoder \(direct), through the latent cache \(cached)")
        for (a, b) in zip(direct, cached) { XCTAssertEqual(a, b, accuracy: 1e-4 * abs(a), "\(direct) vs \(cached)") }

        _ = try losses("resumed", ["dataset.latent_cache=\(cache)"], until: 2)
        let checkpoint = try XCTUnwrap(try RunDirectory(scratch.url.appendingPathComponent("resumed")).latestCheckpoint)
        let resumed = try losses("resumed-2", ["dataset.latent_cache=\(cache)", "experiment.resume_from_checkpoint=\(checkpoint.path)"])
        XCTAssertEqual(resumed, Array(cached.suffix(2)), "resume through the cache continues exactly")

        let manifest = URL(fileURLWithPath: cache + "/latent_cache.json")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: "crc32 ", with: "crc32 0").write(to: manifest, atomically: false, encoding: .utf8)
        assertOneLineError({ try losses("other", ["dataset.latent_cache=\(cache)"]) }, mentions: ["made with another codec file", "nanowm encode-dataset"])
        assertOneLineError({ try losses("none", ["dataset.latent_cache=\(scratch.path("nowhere"))"]) }, mentions: ["no latent cache", "nanowm encode-dataset"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("other")), "a failed start leaves no folder")
    }

    /// A codec file is a program of the user's: what its methods return is checked on every
    /// call (here an encoder fine on the start-of-run probe's frame but NaN on a dark one, and
    /// a decoder returning integers), in one line naming the file and method.
    func testCodecOutputsAreCheckedOnEveryCall() throws {
        let file = try path("wayward_vae.pt")
        let definitions = try PyTorchBaseline.importing("""
        import torch
        from typing import Tuple
        class Wayward(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.codec_kind = 'sd_vae'
                self.format_version = 1
                self.latent_channels = 4
                self.scaling_factor = 0.18215
                self.downsample = 8
            @torch.jit.export
            def encode_moments(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
                mean = torch.nn.functional.avg_pool2d(x, 8)[:, :1].repeat(1, 4, 1, 1)
                if bool(x.mean() < -0.9):
                    mean = mean / 0.0 * 0.0
                return mean, torch.zeros_like(mean)
            @torch.jit.export
            def decode(self, z: torch.Tensor) -> torch.Tensor:
                return torch.nn.functional.interpolate(z[:, :3], scale_factor=8.0).to(torch.int64)
        """, from: try path("wayward_vae.py"), as: "wayward")
        _ = try PyTorchBaseline.shared.run("""
        \(definitions)
        torch.jit.script(wayward.Wayward()).save(\(pythonString(file)))
        """)
        let codec = try SDVAECodec(contentsOf: file)
        XCTAssertNoThrow(try codec.encode(signed: try Tensor.rand([1, 3, 16, 16])), "a bright frame encodes")
        assertOneLineError({ try codec.encode(signed: try Tensor.full([1, 3, 16, 16], -1.0)) },
                           mentions: [file, "encode_moments returned NaN or infinite values for input [1, 3, 16, 16]"])
        assertOneLineError({ try codec.decodeToSigned(try Tensor.zeros([1, 4, 2, 2])) },
                           mentions: [file, "decode returned torch.int64 values", "not floating point"])
    }

    func testWrongFilesAreRefusedWithOneLine() throws {
        let notScript = try path("weights.bin")
        try Data(repeating: 1, count: 64).write(to: URL(fileURLWithPath: notScript))
        let cases: [(String, String, () throws -> Void)] = [
            ("another codec's file", "holds a 'webdino' codec, not 'sd_vae'", { _ = try SDVAECodec(contentsOf: try self.path("dino.pt")) }),
            ("not TorchScript", "not a TorchScript file", { _ = try SDVAECodec(contentsOf: notScript) }),
            ("missing", "none.pt: cannot open: no such file", { _ = try SemanticCodec(contentsOf: try self.path("none.pt"), kind: "webdino") }),
        ]
        for (_, expected, body) in cases { assertOneLineError(body, mentions: [expected]) }
        // A network that raises inside TorchScript: its error, in one line.
        let vae = try SDVAECodec(contentsOf: try path("vae.pt"))
        assertOneLineError({ try vae.encode(signed: try Tensor.zeros([1, 4, 32, 32])) },
                           mentions: ["the sd_vae codec's encode_moments failed on input [1, 4, 32, 32]", "channels"])
        let stderr = Pipe()
        XCTAssertNotEqual(try Self.runExport(["sd_vae", try path("nothing-here"), try path("x.pt")], stderr: stderr), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: try path("x.pt")), "no output on failure")
    }
}
