import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore
@testable import NanoWMFormats

/// Evaluation during training (the reference's metrics callback): `val_eval/*` at the
/// validations on multiples of log_every_n_train_steps equal the evaluate task on that step's
/// checkpoint; `val_vis/*` media reach TensorBoard; evaluating leaves the run's weights as they
/// are; and `train.log` keeps what a person reads.
final class TrainingEvaluationTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var directory: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("training-evaluation-tests") }
    override func tearDown() { scratch.remove() }

    /// Validation every 3 steps, evaluation at each, on every validation clip.
    private func overrides(_ extra: [String] = []) -> [String] {
        TinyTraining.overrides(dataDirectory: directory.appendingPathComponent("data"),
                               ["experiment.evaluation.metrics.log_every_n_train_steps=3", "dataset.loader.validation_size=null"] + extra)
    }

    private func job(_ name: String, _ extra: [String] = []) throws -> TrainingJob {
        let composition = try ConfigComposer.locate().composition(overrides: overrides(extra))
        return try TrainingJob(composition: composition, runDirectory: directory.appendingPathComponent(name), log: { _ in })
    }

    /// Keeps every scalar logged, exactly (TensorBoard stores float32).
    private final class Recorder: MetricsLogger {
        var scalars: [String: [Int: Double]] = [:]
        func scalar(_ name: String, _ value: Double, step: Int) throws { scalars[name, default: [:]][step] = value }
        func image(_ name: String, _ image: RGBImage, step: Int) throws {}
        func video(_ name: String, frames: [RGBImage], fps: Double, step: Int) throws {}
        func flush() throws {}
        func close() throws {}
    }

    /// The values logged at steps 3 and 6 are those `nanowm evaluate` gives the checkpoints of
    /// those steps, bit for bit: the same draws in the same order, the same clips and batches.
    func testValEvalEqualsTheEvaluateTaskOnThatStepsCheckpoint() throws {
        let run = try job("trained", ["experiment.evaluation.batch_size=1", "experiment.evaluation.metrics.max_batchsize=1"])
        let recorder = Recorder()
        run.trainer.logger = LoggerGroup([try XCTUnwrap(run.trainer.logger), recorder])
        try run.train(showProgress: false)
        let periodic = run.run.checkpoints.appendingPathComponent("across_timesteps")
        let names = try FileManager.default.contentsOfDirectory(atPath: periodic.path).sorted()
        XCTAssertEqual(names.count, 2, "\(names)")
        for name in names {
            let step = try XCTUnwrap(Int(try XCTUnwrap(name.split(separator: "=").last?.dropLast(5))))
            let composition = try ConfigComposer.locate().composition(overrides: overrides(["experiment.evaluation.batch_size=1"]))
            let plan = try RunPlan(composition: composition, runDirectory: directory.appendingPathComponent("evaluate-\(step)"))
            let summary = try EvaluationJob.run(plan: plan, checkpoint: periodic.appendingPathComponent(name).path, progress: false, log: { _ in })
            var compared = 0
            for (metric, value) in summary.metrics where metric != "val_loss" {
                XCTAssertEqual(recorder.scalars["val_eval/\(metric)"]?[step], value, "val_eval/\(metric) at step \(step)")
                compared += 1
            }
            XCTAssertGreaterThanOrEqual(compared, 3, "mse, psnr and ssim at least: \(summary.metrics)")
        }
        XCTAssertEqual(recorder.scalars["val_eval/psnr"]?.keys.sorted(), [3, 6])
        // Every clip's videos as upstream lays them out, per step.
        let videos = run.run.url.appendingPathComponent("eval_videos/step_0000003")
        let clips = try FileManager.default.contentsOfDirectory(atPath: videos.path)
        XCTAssertFalse(clips.isEmpty)
        for clip in clips {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: videos.appendingPathComponent(clip).path).sorted(),
                           ["gt_video.mp4", "pred_video.mp4", "raw_data.npz"])
        }
    }

    /// Evaluating draws from a generator it puts back: the weights after 6 steps are the same
    /// bits with evaluation on or off.
    func testEvaluatingLeavesTheTrainingRunUntouched() throws {
        var weights: [[(String, Tensor)]] = []
        var evaluated: [Bool] = []
        for (name, evaluate) in [("with", true), ("without", false)] {
            let run = try job(name, ["experiment.evaluation.metrics.evaluate=\(evaluate)"])
            let recorder = Recorder()
            run.trainer.logger = LoggerGroup([try XCTUnwrap(run.trainer.logger), recorder])
            try run.train(showProgress: false)
            weights.append(run.trainer.model.stateDict())
            evaluated.append(recorder.scalars["val_eval/psnr"] != nil)
        }
        XCTAssertEqual(evaluated, [true, false])
        for ((key, a), (_, b)) in zip(weights[0], weights[1]) { try assertExactlyEqual(a, b, key) }
    }

    /// TensorBoard's own reader sees the metrics and, per shown clip, the context frame, ground
    /// truth, reconstruction and prediction (videos as animated images).
    func testValEvalAndValVisReachTensorBoard() throws {
        let run = try job("tensorboard", ["experiment.training.max_steps=3"])
        try run.train(showProgress: false)
        let python = try PyTorchBaseline.shared.run("""
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(\(pythonString(run.run.tensorboard.path)), size_guidance={'images': 0})
        acc.Reload()
        scalars, images = acc.Tags()['scalars'], acc.Tags()['images']
        for tag in ['val_loss', 'val_eval/mse', 'val_eval/psnr', 'val_eval/ssim']:
            assert tag in scalars, scalars
        clips = sorted({t.split('/')[1] for t in images if t.startswith('val_vis/')})
        assert clips, images
        for clip in clips:
            for part in ['context_frame', 'x_gt', 'x_reconst', 'x_pred']:
                tag = f'val_vis/{clip}/{part}'
                assert tag in images, (tag, images)
                assert [e.step for e in acc.Images(tag)] == [3], tag
        gif = acc.Images(f'val_vis/{clips[0]}/x_pred')[0]
        O['clips'] = torch.tensor(len(clips))
        O['gif'] = torch.tensor(int(gif.encoded_image_string[:6] in (b'GIF89a', b'GIF87a')))
        """)
        XCTAssertGreaterThanOrEqual(try python["clips"]?.item(Int.self) ?? 0, 1)
        XCTAssertEqual(try python["gif"]?.item(Int.self), 1, "a video is an animated GIF, as TensorBoard's add_video writes it")
    }

    /// train.log holds the job's lines, one line of scalars per logged step (train_loss at each,
    /// val_eval at 3), and a resumed run appends to it.
    func testTrainLogKeepsWhatThePersonReads() throws {
        var shown: [String] = []
        let composition = try ConfigComposer.locate().composition(overrides: overrides(["experiment.training.max_steps=3"]))
        let folder = directory.appendingPathComponent("logged")
        do {  // the job and its hold on the run folder end here
            let first = try TrainingJob(composition: composition, runDirectory: folder, log: { shown.append($0) })
            try first.train(showProgress: false)
            first.log("checkpoint: done")
        }
        let text = try String(contentsOf: folder.appendingPathComponent("train.log"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        for line in shown + ["checkpoint: done"] {
            XCTAssertTrue(lines.contains { $0.hasSuffix(" " + line) }, "train.log lacks '\(line)':\n\(text)")
        }
        for step in 1...3 {
            XCTAssertTrue(lines.contains { $0.contains("step \(step): ") && $0.contains("train_loss ") }, "no scalars of step \(step):\n\(text)")
        }
        for name in ["val_loss", "val_eval/psnr", "val_eval/ssim"] {
            XCTAssertTrue(lines.contains { $0.contains("step 3: ") && $0.contains(" \(name) ") }, "no \(name) at step 3:\n\(text)")
        }
        // Each line starts with the time it was written.
        XCTAssertTrue(lines.allSatisfy { $0.range(of: #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "#, options: .regularExpression) != nil }, text)

        do {
            let resumed = try TrainingJob(composition: try ConfigComposer.locate().composition(overrides: overrides(["experiment.training.max_steps=4"])),
                                          runDirectory: folder, log: { _ in })
            try resumed.train(showProgress: false)
        }
        let after = try String(contentsOf: folder.appendingPathComponent("train.log"), encoding: .utf8)
        XCTAssertTrue(after.hasPrefix(text), "a resumed run appends to train.log")
        XCTAssertTrue(after.contains("step 4: "), after)
    }
}
