import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

/// Evaluation split across processes gives one process's numbers: a rank that leaves batches
/// to the ranks before it makes (and drops) their random draws, so its own batches get the
/// noise a single process gives them; then scores and features are gathered in order.
final class EvaluationAcrossRanksTests: XCTestCase {
    var scratch: TemporaryDirectory!
    override func setUpWithError() throws { scratch = try TemporaryDirectory("evaluation-ranks") }
    override func tearDown() { scratch.remove() }

    /// Sampling batch B after batch A equals sampling B after only discarding A's draws, for
    /// every kind of process and with every draw sampling makes: history stabilisation, the
    /// initial noise, per-step noise (eta > 0). Equality is exact: the same generator state
    /// feeds the same arithmetic. The control (B sampled right after seeding) must differ, or
    /// the test would not see a missed draw.
    func testDiscardedSamplingDrawsLeaveTheGeneratorInStep() throws {
        let denoiser: Denoiser = { x, t in try x * 0.5 + t.to(.float32).reshape([t.shape[0], t.shape[1], 1, 1, 1]) * 1e-3 }
        for target in [PredictionTarget.epsilon, .v, .x, .flow] {
            var setup = SamplingSetup()
            setup.target = target
            setup.options.steps = 5
            setup.options.eta = 0.7
            setup.options.historyStabilization = 0.02
            let (process, options) = try setup.make(device: .cpu)
            let sampler = DiffusionForcingSampler(process: process, options: options)
            let (first, second) = ([2, 4, 3, 4, 4], [1, 4, 3, 4, 4])
            let context = try Tensor.randn(second)
            func sampleSecond() throws -> Tensor {
                try withNoGrad { try sampler.sample(denoiser, shape: second, context: context, contextFrames: 2) }
            }
            try manualSeed(11)
            _ = try withNoGrad { try sampler.sample(denoiser, shape: first, context: try Tensor.ones(first), contextFrames: 2) }
            let sequential = try sampleSecond()
            try manualSeed(11)
            try sampler.discardDraws(shape: first, contextFrames: 2, device: .cpu)
            try assertExactlyEqual(try sampleSecond(), sequential, "\(target)")
            try manualSeed(11)
            XCTAssertGreaterThan(try (sampleSecond() - sequential).abs().max().item(Double.self), 0, "\(target): the control must differ")
        }
    }

    /// The SD-VAE's posterior draw (the only codec that draws): encoding B after A equals
    /// encoding B after discarding A's draw.
    func testDiscardedEncodingDrawsLeaveTheGeneratorInStep() throws {
        let codec = try SDVAECodec(contentsOf: try CodecTests.models.get().path("vae.pt"))
        let frame = [3, 32, 32]
        let (a, b) = (try Tensor.rand([3] + frame) * 2.0 - 1.0, try Tensor.rand([2] + frame) * 2.0 - 1.0)
        try manualSeed(5)
        _ = try codec.encode(signed: a)
        let sequential = try codec.encode(signed: b)
        try manualSeed(5)
        try codec.discardEncodingDraws(frames: 3, of: frame, device: .cpu)
        try assertExactlyEqual(try codec.encode(signed: b), sequential, "SD-VAE")
        try manualSeed(5)
        XCTAssertGreaterThan(try (codec.encode(signed: b) - sequential).abs().max().item(Double.self), 0, "the control must differ")
        try manualSeed(5)
        try PixelCodec().discardEncodingDraws(frames: 3, of: frame, device: .cpu)
        let afterPixels = try Tensor.randn([4])
        try manualSeed(5)
        try assertExactlyEqual(afterPixels, try Tensor.randn([4]), "a pixel codec draws nothing")
    }

    /// The accumulators' gathers, two ranks in threads: batches of unequal size split in
    /// consecutive blocks (and a single batch, which leaves rank 1 nothing) gather to what one
    /// accumulator adding every batch holds, so the summaries are equal exactly.
    func testGatheredAccumulatorsEqualOneAccumulator() throws {
        try manualSeed(2)
        let batches = try [2, 1, 3].map { n in (try Tensor.rand([n, 3, 3, 12, 12]) * 2.0 - 1.0, try Tensor.rand([n, 3, 3, 12, 12]) * 2.0 - 1.0) }
        for used in [batches, Array(batches.prefix(1))] {
            let names = (0..<used.map { $0.0.shape[0] }.reduce(0, +)).map { "clip\($0)" }
            func summaries(_ group: ProcessGroup?) throws -> (pixels: MetricsSummary, latents: MetricsSummary) {
                let mine = group.map { RankShare.range(count: used.count, rank: $0.rank, worldSize: $0.worldSize) } ?? used.indices
                let pixels = VideoMetricAccumulator(contextFrames: 1, networks: MetricNetworks())
                var latents = LatentMetricAccumulator()
                var offset = used[..<mine.lowerBound].map { $0.0.shape[0] }.reduce(0, +)
                for (prediction, truth) in used[mine] {
                    try pixels.add(prediction: prediction, truth: truth, names: Array(names[offset..<(offset + prediction.shape[0])]))
                    try latents.add(prediction: prediction, truth: truth, contextFrames: 1)
                    offset += prediction.shape[0]
                }
                if let group {
                    try pixels.gather(over: group, names: names)
                    try latents.gather(over: group)
                }
                return (try pixels.summary(), latents.summary(clips: names.count, contextFrames: 1, frames: 3))
            }
            let single = try summaries(nil)
            for (rank, split) in try TwoRanks.run({ try summaries($0) }).enumerated() {
                for (ours, theirs) in [(split.pixels, single.pixels), (split.latents, single.latents)] {
                    XCTAssertEqual(ours.metrics.map(\.name), theirs.metrics.map(\.name))
                    XCTAssertEqual(ours.metrics.map(\.value), theirs.metrics.map(\.value), "rank \(rank), \(used.count) batches")
                    XCTAssertEqual(ours.counts.map(\.value), theirs.counts.map(\.value))
                    XCTAssertEqual(ours.perFrame.map(\.values), theirs.perFrame.map(\.values))
                }
            }
        }
    }

    /// `nanowm evaluate --nproc-per-node 2` against one process on the same checkpoint: the 6
    /// clips of the validation episode (validation_size=6) in batches of 1, so rank 1 samples its three after
    /// discarding three batches' draws; LPIPS and FID networks, so per-frame rows and Inception features are gathered.
    /// Every worker runs one thread, as the single process does here (OMP_NUM_THREADS=1), so
    /// each clip is computed by the same kernels on the same inputs: the metrics, per-frame
    /// means and counts must be equal exactly, and so must the saved videos' raw frames.
    func testTwoProcessesGiveOneProcesssNumbers() throws {
        let data = scratch.url.appendingPathComponent("data")
        let train = try NanoWMExecutable.run(["train", "--run-dir", scratch.path("train")] + TinyTraining.overrides(dataDirectory: data))
        XCTAssertEqual(train.status, 0, train.error)
        let checkpoint = try XCTUnwrap(RunDirectory(scratch.url.appendingPathComponent("train"), create: false).latestCheckpoint).path
        let overrides = TinyTraining.overrides(dataDirectory: data, [
            "experiment.resume_from_checkpoint=\(checkpoint)", "dataset.loader.validation_size=6", "experiment.evaluation.batch_size=1",
            "experiment.evaluation.metrics.lpips_model_path=\(EvaluationMetricsTests.lpipsFile)",
            "experiment.evaluation.metrics.inception_model_path=\(EvaluationMetricsTests.inceptionFile)"])
        let single = try NanoWMExecutable.run(["evaluate", "--run-dir", scratch.path("one")] + overrides, environment: ["OMP_NUM_THREADS": "1"])
        XCTAssertEqual(single.status, 0, single.error)
        let split = try NanoWMExecutable.run(["evaluate", "--nproc-per-node", "2", "--dist-timeout", "120", "--run-dir", scratch.path("two")] + overrides,
                                             environment: ["OMP_NUM_THREADS": "1"])
        XCTAssertEqual(split.status, 0, split.error)
        XCTAssertTrue(split.output.contains("across 2 processes"), split.output)
        XCTAssertEqual(split.output.components(separatedBy: "metrics: ").count, 2, "rank 0 alone reports: \(split.output)")

        let (one, two) = (try jsonObject(atPath: scratch.path("one/metrics.json")), try jsonObject(atPath: scratch.path("two/metrics.json")))
        XCTAssertEqual((one["counts"] as? [String: Int])?["clips"], 6)
        XCTAssertEqual((one["metrics"] as? [String: Double]).map { Set($0.keys) }, ["mse", "psnr", "ssim", "lpips", "fid", "val_loss"])
        for key in ["metrics", "counts", "per_frame"] {
            XCTAssertEqual(one[key] as? NSDictionary, two[key] as? NSDictionary, key)
        }
        let clips = try FileManager.default.contentsOfDirectory(atPath: scratch.path("one/eval_videos/step_0000000")).sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path("two/eval_videos/step_0000000")).sorted(), clips)
        XCTAssertEqual(clips.count, 6)
        for clip in clips {
            let file = "eval_videos/step_0000000/\(clip)/raw_data.npz"
            XCTAssertEqual(try Data(contentsOf: scratch.url.appendingPathComponent("one/" + file)),
                           try Data(contentsOf: scratch.url.appendingPathComponent("two/" + file)), clip)
        }
    }
}
