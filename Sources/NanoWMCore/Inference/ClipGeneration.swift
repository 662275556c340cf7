import Foundation
import SwiftTorch
import NanoWMFormats

/// `nanowm sample` and `nanowm rollout` as one pipeline: check the options, read and check the
/// clip, check the memory the result needs, then generate on the model's device with a
/// progress bar, refuse a non-finite result and write `samples`. Errors are one line naming
/// the option or the file and key.
public struct ClipGeneration {
    /// What to generate after the context.
    public enum Length {
        /// The model's window in one diffusion-forcing pass (`sample`); nil frames = the window.
        case window(frames: Int?)
        /// `frames` in all, one new frame per window with `history` frames of context (nil = 4 as
        /// upstream's rollout, at most window − 1 and the context's length) and a `window`-frame model (nil = its window).
        case rollout(frames: Int, history: Int?, window: Int?)
    }

    public let model: NanoWMModel
    public let device: Device
    public let setup: SamplingSetup
    public let seed: Int
    /// Pixel-space input and video output through a codec (nil: latents in, latents out).
    public var pixels: PixelSpace?
    /// Where notes (a large run's memory estimate) go.
    public var note: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(model: NanoWMModel, device: Device, setup: SamplingSetup, seed: Int) {
        (self.model, self.device, self.setup, self.seed) = (model, device, setup, seed)
    }

    /// Generates from the clip at `input` and writes `samples` [B, F, C, H, W] to `output`;
    /// returns their shape. Nothing is written unless every sample is finite.
    @discardableResult
    public func run(_ length: Length, input: String, output: String) throws -> [Int] {
        try setup.validate()
        guard seed >= 0 else { throw DiffusionError("--seed must be ≥ 0 (got \(seed))") }
        let clip = try ContextClip(read: input, for: model.config, device: device, pixels: pixels, seed: seed)
        let samples: Tensor
        switch length {
        case .window(let frames): samples = try sample(clip, frames: frames ?? model.config.numFrames)
        case .rollout(let frames, let history, let window): samples = try rollout(clip, frames: frames, history: history, window: window)
        }
        let bad = try InputFile.nonFiniteCount(samples)
        guard bad == 0 else {
            throw DiffusionError("the samples hold \(bad) NaN/Inf value(s) of \(samples.count), so nothing was written to \(output); the checkpoint's weights are likely not finite")
        }
        if let pixels {
            try pixels.write(samples, to: output)
        } else {
            try SafeTensors.write(["samples": try samples.to(.cpu)], to: output)
        }
        return samples.shape
    }

    private func sample(_ clip: ContextClip, frames total: Int) throws -> Tensor {
        let window = model.config.numFrames
        guard total == window else {
            throw DiffusionError("--frames \(total) differs from the model's \(window)-frame window; use `nanowm rollout` for longer clips")
        }
        let contextFrames = clip.context.shape[1]
        guard contextFrames < total else {
            throw DiffusionError("\(clip.path): the \(contextFrames)-frame context leaves nothing to generate in \(total) frames; give at most \(total - 1) context frames")
        }
        if let action = clip.action, action.shape[1] < total {
            throw DiffusionError("\(clip.path): action has \(action.shape[1]) frames; \(total) needed")
        }
        try checkMemory(clip, frames: total, window: window)
        let (process, options) = try setup.make(device: device)
        let actions = try clip.action.map { try $0.narrow(dim: 1, start: 0, length: total) }
        try manualSeed(UInt64(seed))
        var bar: ProgressBar?
        return try withNoGrad {
            try DiffusionForcingSampler(process: process, options: options).sample(
                { x, t in try model(x, t: t, action: actions) },
                shape: [clip.context.shape[0], total] + Array(clip.context.shape[2...]), context: clip.context,
                contextFrames: contextFrames, frameByFrame: try model.frameByFrame(actions: actions),
                progress: { done, steps in
                    // The step count is known after the first step; the rate counts from there.
                    if bar == nil { bar = ProgressBar("sample", total: steps, startingAt: done) }
                    bar?.update(done)
                })
        }
    }

    private func rollout(_ clip: ContextClip, frames: Int, history: Int?, window: Int?) throws -> Tensor {
        let span = window ?? model.config.numFrames
        guard span == model.config.numFrames else {
            throw DiffusionError("--window \(span) differs from the model's \(model.config.numFrames)-frame window")
        }
        let contextFrames = clip.context.shape[1]
        let kept = history ?? Swift.min(4, span - 1, contextFrames)  // upstream's rollout keeps 4
        guard kept >= 1, kept < span else {
            throw DiffusionError("--history \(kept) must be at least 1 and less than the model's \(span)-frame window")
        }
        guard kept <= contextFrames else {
            throw DiffusionError("--history \(kept) needs \(kept) context frames, but \(clip.path) has \(contextFrames); lower --history")
        }
        guard frames > kept else { throw DiffusionError("--frames \(frames) must exceed the \(kept) history frames") }
        try checkMemory(clip, frames: frames, window: span)
        let (process, options) = try setup.make(device: device)
        let rollout = try SlidingWindowRollout(process: process, options: options, window: span, history: kept)
        try manualSeed(UInt64(seed))
        let bar = ProgressBar("rollout", total: frames - kept)
        return try withNoGrad {
            try rollout.generate({ x, t, a in try model(x, t: t, action: a) }, context: clip.context, actions: clip.action,
                                 length: frames, frameByFrame: { try model.frameByFrame(actions: $0) },
                                 progress: { done, _ in bar.update(done) })
        }
    }

    private func checkMemory(_ clip: ContextClip, frames: Int, window: Int) throws {
        let budget = MemoryBudget.generation(batch: clip.context.shape[0], frames: frames, window: window,
                                             frameShape: Array(clip.context.shape[2...]))
        if let text = try budget.check(fix: "--frames or the batch") { note(text) }
    }
}

/// The clip `sample` and `rollout` start from: `context` [B, K ≥ 1, C, H, W] (or pixel frames
/// the codec encodes to it, with the generator seeded first so the encoding is reproducible)
/// and, for action models, `action` [B, F, A], as float32 on the model's device.
private struct ContextClip {
    let path: String
    let context: Tensor
    let action: Tensor?

    init(read path: String, for config: NanoWMConfig, device: Device, pixels: PixelSpace?, seed: Int) throws {
        let size = config.inputSize, channels = config.inChannels
        let layout = "[B, K, \(channels), \(size), \(size)]"
        let context: Tensor
        if let pixels, let frames = try pixels.frames(of: path) {
            try manualSeed(UInt64(seed))
            context = try pixels.encode(try frames.to(device), for: config)
        } else {
            guard !PixelSpace.isVideo(path) else {
                throw DataError("\(path): a video input needs a codec to turn its frames into latents; add --latent-codec KIND")
            }
            context = try InputFile(path).values("context", layout: layout)
        }
        let actionPath = pixels?.actionFile ?? (PixelSpace.isVideo(path) ? nil : path)
        guard context.shape.count == 5, context.shape[2] == channels, context.shape[3] == size, context.shape[4] == size else {
            throw DataError("\(path): context has shape \(context.shape); the model takes \(layout)")
        }
        guard context.shape[0] >= 1, context.shape[1] >= 1 else {
            throw DataError("\(path): context has shape \(context.shape); give at least one clip and one context frame \(layout)")
        }
        var action: Tensor?
        if config.useAction {
            let width = config.actionDim ?? 0
            guard let actionPath else {
                throw DataError("\(path): the model uses actions and a video carries none; give them with --actions FILE ('action' [B, F, \(width)])")
            }
            let file = try InputFile(actionPath)
            guard file.contains("action") else {
                throw DataError("\(actionPath): the model uses actions but the file has no 'action' [B, F, \(width)]")
            }
            let a = try file.values("action", layout: "[B, F, \(width)]")
            guard a.shape.count == 3, a.shape[0] == context.shape[0], a.shape[1] >= 1, a.shape[2] == width else {
                throw DataError("\(path): action has shape \(a.shape); expected [\(context.shape[0]), F, \(width)]")
            }
            action = try a.to(device)
        }
        self.path = path
        self.context = try context.to(device)
        self.action = action
    }
}
