import Foundation
import NanoWM
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// Codec time: the exported TorchScript networks as `nanowm` runs them against the same
/// networks in PyTorch eager (diffusers/transformers), same weights, inputs and threads.
/// The models are random (nothing is downloaded) but sized like small real ones: an SD-VAE
/// with channels 64-128-256-256 on 128×128 frames, and a ViT-S/14 Web-DINO on 224×224.
func benchCodec(threads: Int) throws {
    try Torch.setNumThreads(threads)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-codec-bench-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let vae = folder.appendingPathComponent("vae").path, dino = folder.appendingPathComponent("dino").path
    try runPython("""
    import torch
    from diffusers.models import AutoencoderKL
    from transformers import Dinov2Config, Dinov2Model
    torch.manual_seed(0)
    AutoencoderKL(down_block_types=('DownEncoderBlock2D',) * 4, up_block_types=('UpDecoderBlock2D',) * 4,
                  block_out_channels=(64, 128, 256, 256), layers_per_block=2, latent_channels=4).save_pretrained('\(vae)')
    Dinov2Model(Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
                             patch_size=14, image_size=224)).save_pretrained('\(dino)')
    """)
    try runPython(nil, arguments: ["scripts/export_codec.py", "sd_vae", vae, vae + ".pt", "--image-size=128"])
    try runPython(nil, arguments: ["scripts/export_codec.py", "webdino", dino, dino + ".pt", "--input-size=224"])

    let sdvae = try SDVAECodec(contentsOf: vae + ".pt")
    let webdino = try SemanticCodec(contentsOf: dino + ".pt", kind: "webdino")
    let frames = try Tensor.rand([2, 3, 128, 128]) * 2.0 - 1.0
    let latents = try Tensor.randn([2, 4, 16, 16])
    let pixels = try Tensor.randn([2, 3, 224, 224])
    var ours: [String: Double] = [:]
    try withNoGrad {
        // TorchScript's profiling executor optimises a graph over its first two runs; both
        // sides get two untimed runs.
        for _ in 0..<2 {
            _ = try sdvae.moments(signed: frames)
            _ = try sdvae.decodeToSigned(latents)
            _ = try webdino.file.module.run("encode_tokens", [.tensor(pixels)])
        }
        ours["sd_vae encode 2x128²"] = try secondsPerIteration(1, repeats: 3) { _ = try sdvae.moments(signed: frames) }
        ours["sd_vae decode 2x16²"] = try secondsPerIteration(1, repeats: 3) { _ = try sdvae.decodeToSigned(latents) }
        ours["webdino encode 2x224²"] = try secondsPerIteration(1, repeats: 3) {
            _ = try webdino.file.module.run("encode_tokens", [.tensor(pixels)])
        }
    }
    let setup = """
    from diffusers.models import AutoencoderKL
    from transformers import Dinov2Model
    torch.set_grad_enabled(False)
    vae = AutoencoderKL.from_pretrained('\(vae)').eval()
    dino = Dinov2Model.from_pretrained('\(dino)').eval()
    x, z, p = torch.rand(2, 3, 128, 128) * 2 - 1, torch.randn(2, 4, 16, 16), torch.randn(2, 3, 224, 224)
    """
    let cases: [(String, String)] = [("sd_vae encode 2x128²", "vae.encode(x).latent_dist"),
                                     ("sd_vae decode 2x16²", "vae.decode(z).sample"),
                                     ("webdino encode 2x224²", "dino(pixel_values=p).last_hidden_state")]
    let torch = try runTorchBaseline(["threads": threads, "cases": cases.map { name, statement in
        ["name": name, "setup": setup + "\nfor _ in range(2): \(statement)\n", "stmt": statement, "iters": 1, "repeats": 3] as [String: Any]
    }])
    let rows = cases.map { name, _ in (name, ours[name]! * 1e3, (torch[name] as? Double ?? .nan) * 1e3) }
    printComparison(title: "Codecs: exported TorchScript in nanowm vs PyTorch eager (\(threads) thread(s), best of 3)",
                    unit: "ms", rows: rows, goal: 1.05)
    try benchLatentCache(vae: vae + ".pt", folder: folder)
}

/// Training steps per second on 128×128 built-in frames in SD-VAE latents, encoding every batch
/// (upstream's way) against reading the latent cache (`nanowm encode-dataset`).
private func benchLatentCache(vae: String, folder: URL) throws {
    let steps = 10
    let base = ["experiment=quickstart", "wandb.enabled=false", "dataset_dir=\(folder.path)/data", "dataset.resolution=128",
                "model.image_size=128", "dataset.num_trajectories=8", "dataset.trajectory_length=12", "latent_codec=sd_vae",
                "latent_codec.torchscript=\(vae)", "model.latent_channels=4", "model.latent_size=16", "model.patch_size=2",
                "model.hidden_size=64", "model.depth=2", "model.num_heads=2", "model.num_frames=4",
                "experiment.training.batch_size=4", "experiment.training.max_steps=\(steps)",
                "experiment.training.val_every_n_steps=100000", "experiment.training.log_every=100000",
                "experiment.training.checkpointing.latest.every_n_train_steps=100000",
                "experiment.training.checkpointing.across_timesteps.every_n_train_steps=100000",
                "dataset.loader.validation_size=1", "dataset.latent_cache=\(folder.path)/cache"]
    let composer = try ConfigComposer.locate()
    let started = Date()
    try RunConfiguration(try composer.composition(overrides: base).resolved()).buildLatentCache()
    let building = Date().timeIntervalSince(started)
    var rates: [String: Double] = [:]
    for (label, overrides) in [("encoder every batch", Array(base.dropLast()) + ["dataset.latent_cache=null"]), ("latent cache", base)] {
        let job = try TrainingJob(composition: try composer.composition(overrides: overrides),
                                  runDirectory: folder.appendingPathComponent("run-\(rates.count)"), log: { _ in })
        let start = Date()
        try job.trainer.fit(showProgress: false)
        rates[label] = Double(steps) / Date().timeIntervalSince(start)
    }
    print("\nTraining in SD-VAE latents (128x128 frames, batch 4 x 4 frames, \(steps) steps, same model and seed)")
    for label in ["encoder every batch", "latent cache"] {
        print("  " + label.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%6.2f it/s", rates[label]!))
    }
    print(String(format: "  latent cache: %.1fx the steps per second; building it (8 episodes x 12 frames) took %.1f s",
                 rates["latent cache"]! / rates["encoder every batch"]!, building))
}

/// Runs the project environment's Python on `code` (or on `arguments`), failing on a non-zero exit.
func runPython(_ code: String?, arguments: [String] = []) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: baselinePython())
    process.arguments = code.map { ["-c", $0] } ?? arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError("python \(arguments.first ?? "-c …") failed (exit \(process.terminationStatus)); run scripts/setup")
    }
}
