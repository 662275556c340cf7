import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// The reference's dataset-driven rollout (`src/sample/rollout.py`): the first validation clips
/// whose trajectory holds `length · frame_interval` raw steps from their start give ground-truth
/// frames every frame interval (resized as training resizes them) and the raw actions between
/// them (normalised as training normalises them); the frames are encoded, the first `history`
/// latents start a sliding-window rollout of `length` frames (one new frame per window), and
/// generated and ground-truth latents are decoded into `sample_XXXX_gen.mp4`, `_gt.mp4` and
/// `_compare.mp4` (ground truth left, generated right), batch by batch.
public struct DatasetRollout {
    public var samples = 1
    public var batchSize = 1
    /// Frames per rollout, context included (the reference's `rollout_length`).
    public var length = 50
    /// Context frames kept (the reference's `history_length`).
    public var history = 4
    public var fps = 8.0

    public init() {}

    /// Runs the rollouts into `folder`; returns the videos written.
    public func run(model: NanoWMModel, configuration: RunConfiguration, pixels: PixelSpace, setup: SamplingSetup, seed: UInt64,
                    into folder: URL, device: Device = .cpu, log: (String) -> Void = { print($0) }) throws -> [URL] {
        guard pixels.codec.hasDecoder else { throw DataError("the run's codec cannot decode latents to pixels; a dataset rollout writes videos") }
        guard samples > 0, batchSize > 0 else { throw ConfigError(.invalidValue, "--num-samples and --batch-size must be positive") }
        let window = model.config.numFrames
        guard history >= 1, history < window else {
            throw ConfigError(.invalidValue, "--history \(history) must be at least 1 and less than the model's \(window)-frame window")
        }
        guard length > history else { throw ConfigError(.invalidValue, "--frames \(length) must exceed the \(history) history frames") }
        let frameInterval = configuration.dataset.frameInterval
        let validation = try configuration.datasets().validation
        // The first clips with enough headroom, in the split's order, as the reference scans them.
        var chosen: [(frames: Tensor, actions: Tensor)] = []
        for index in 0..<validation.count where chosen.count < samples {
            if let window = try validation.window(at: index, frames: length) { chosen.append(window) }
        }
        guard !chosen.isEmpty else {
            throw DataError("no validation clip's trajectory holds \(length) frames × frame_interval \(frameInterval) from its start; lower --frames")
        }
        if chosen.count < samples { log("warning: only \(chosen.count) validation clips have room for \(length) frames (asked for \(samples))") }
        try Folder.create(folder)
        let rollout = try SlidingWindowRollout(process: try setup.make(device: device).process, options: setup.options,
                                               window: window, history: history)
        try manualSeed(seed)
        var written: [URL] = []
        for start in stride(from: 0, to: chosen.count, by: batchSize) {
            let batch = Array(chosen[start..<Swift.min(start + batchSize, chosen.count)])
            let truth = try Tensor.stack(batch.map(\.frames)).to(device) * 2.0 - 1.0
            let actions = model.config.useAction ? try Tensor.stack(batch.map(\.actions)).to(.float32).to(device) : nil
            let latents = try pixels.encode(truth, for: model.config)
            let bar = ProgressBar("rollout", total: length - history)
            let generated = try withNoGrad {
                try rollout.generate({ x, t, a in try model(x, t: t, action: a) }, context: latents, actions: actions,
                                     frameInterval: frameInterval, length: length,
                                     frameByFrame: { try model.frameByFrame(actions: $0) }) { done, _ in bar.update(done) }
            }
            bar.finish()
            for offset in batch.indices {
                let name = String(format: "sample_%04d", start + offset)
                let gen = try pixels.images(try generated.select(dim: 0, index: offset))
                let gt = try pixels.images(try latents.select(dim: 0, index: offset))
                let files = [("gen", gen), ("gt", gt),
                             ("compare", try zip(gt, gen).map { try RGBImage.grid([$0, $1], columns: 2, padding: 2) })]
                for (kind, images) in files {
                    let url = folder.appendingPathComponent("\(name)_\(kind).mp4")
                    try MP4Writer.write(images, fps: fps, to: url)
                    written.append(url)
                }
            }
        }
        return written
    }
}
