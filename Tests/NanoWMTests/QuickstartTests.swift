import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMFormats
@testable import NanoWMCore

/// The main job at toy size: every artifact exists and is valid for the tools people use on it.
final class QuickstartTests: XCTestCase {
    func testToyQuickstartWritesValidArtifacts() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quickstart-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let overrides = ["dataset_dir=\(directory.path)/data", "model.hidden_size=32", "model.depth=2", "model.num_heads=2",
                         "model.patch_size=4", "model.latent_size=16", "model.image_size=16", "model.num_sampling_steps=3",
                         "dataset.resolution=16", "dataset.num_trajectories=10", "dataset.trajectory_length=16",
                         "experiment.training.max_steps=4", "experiment.training.batch_size=2", "experiment.training.log_every=2",
                         "dataset.loader.validation_size=2", "experiment.evaluation.num_sampling_steps=3",
                         "planning.n_evals=2", "planning.cem.num_samples=4", "planning.cem.topk=2", "planning.cem.opt_steps=1",
                         "planning.num_sampling_steps=1"]
        // A clip of the user's in pixels (with its actions), rolled out after training.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let clip = directory.appendingPathComponent("clip.safetensors").path
        try SafeTensors.write(["frames": try Tensor.rand([1, 2, 3, 16, 16]) * 2.0 - 1.0, "action": try Tensor.randn([1, 16, 2])], to: clip)
        let (artifacts, metrics) = try Quickstart.run(overrides: overrides, runDirectory: directory.appendingPathComponent("run"),
                                                      clip: Quickstart.UserClip(input: clip), log: { _ in })

        XCTAssertEqual(metrics.trainingSteps, 4)
        XCTAssertEqual(metrics.evaluation.generatedFrames, 3)
        XCTAssertNotNil(metrics.evaluation.zeroActions)
        XCTAssertEqual(metrics.rollout.frames, 16, "4× the 4-frame window")
        XCTAssertEqual(metrics.rollout.psnrPerFrame.count, 16 - 3)
        let planning = try XCTUnwrap(metrics.planning)
        XCTAssertEqual(planning.goals, 2)
        XCTAssertEqual(Set(try XCTUnwrap(metrics.phaseSeconds).keys), ["training", "evaluation", "rollout", "planning"])
        XCTAssertGreaterThan(try MP4Writer.probe(URL(fileURLWithPath: try XCTUnwrap(artifacts.planningVideo))).frames, 1)
        // The planning phase alone on the finished run (`--plan-only`) repeats it exactly: seeded.
        let composition = try ConfigComposer.locate().composition(overrides: Quickstart.baseOverrides + overrides)
        let again = try QuickstartPlanning.run(savedRun: URL(fileURLWithPath: artifacts.runDirectory), composition: composition, log: { _ in })
        XCTAssertEqual([again.report.worldModelSuccesses, again.report.randomActionSuccesses, again.report.simulatorSuccesses],
                       [planning.worldModelSuccesses, planning.randomActionSuccesses, planning.simulatorSuccesses])

        // The MP4 decodes with OpenCV: one frame per rollout frame.
        let video = try MP4Writer.probe(URL(fileURLWithPath: artifacts.video))
        XCTAssertEqual(video.frames, 16)
        XCTAssertGreaterThan(video.width, video.height, "ground truth beside prediction")
        let yours = try MP4Writer.probe(URL(fileURLWithPath: try XCTUnwrap(artifacts.inputRollout)))
        XCTAssertEqual([yours.frames, yours.width, yours.height], [16, 16, 16], "the rollout from the user's clip")

        // GIF and PNGs parse with Pillow; the checkpoint loads with weights_only; metrics are JSON.
        let python = try PyTorchBaseline.shared.run("""
        import json
        from PIL import Image
        gif = Image.open(\(pythonString(artifacts.gif)))
        frames = 0
        try:
            while True:
                frames += 1
                gif.seek(gif.tell() + 1)
        except EOFError:
            pass
        for png in [\(pythonString(artifacts.plot)), \(pythonString(artifacts.samples))]:
            image = Image.open(png); image.load()
            assert image.format == 'PNG' and image.size[0] > 100, (png, image.size)
        ck = torch.load(\(pythonString(artifacts.checkpoint)), weights_only=True)
        assert ck['global_step'] == 4 and any(k.startswith('model.') for k in ck['state_dict'])
        m = json.load(open(\(pythonString(artifacts.metrics))))
        assert 'psnr' in m['evaluation']['model'] and 'copyLastFrame' in m['evaluation']
        O['gif_frames'] = torch.tensor(frames)
        """)
        XCTAssertEqual(try python["gif_frames"]?.item(Int.self), 16)
        let events = try FileManager.default.contentsOfDirectory(atPath: artifacts.tensorboard)
        let eventFile = try XCTUnwrap(events.first { $0.hasPrefix("events.out.tfevents.") })
        // The run's TensorBoard holds the system scalars beside the losses, as `nanowm train`'s does.
        let recorded = try Data(contentsOf: URL(fileURLWithPath: artifacts.tensorboard).appendingPathComponent(eventFile))
        for tag in ["train_loss", "system/rss_mb"] {
            XCTAssertNotNil(recorded.range(of: Data(tag.utf8)), "no \(tag) in the quickstart's TensorBoard")
        }
    }
}
