import Foundation
import SwiftTorch
import NanoWMCore

/// The standard evaluation of an action-conditioned world model on held-out clips: from the
/// first `contextFrames` frames and the true actions, generate the rest of the window with a
/// fixed seed, and score the generated frames (PSNR, SSIM) against ground truth, beside the
/// copy-last-frame baseline and the same model given zero or shuffled actions.
public struct WorldModelEvaluation {
    public let model: NanoWMModel
    public let codec: LatentCodec
    public let process: DiffusionProcess
    public let options: SamplingOptions
    public let contextFrames: Int
    public let seed: UInt64

    public init(model: NanoWMModel, codec: LatentCodec, process: DiffusionProcess, options: SamplingOptions,
                contextFrames: Int, seed: UInt64 = 0) {
        self.model = model
        self.codec = codec
        self.process = process
        self.options = options
        self.contextFrames = contextFrames
        self.seed = seed
    }

    public struct Scores: Codable {
        public var psnr: Double
        public var ssim: Double
    }

    public struct Report: Codable {
        public var clips: Int
        public var contextFrames: Int
        public var generatedFrames: Int
        public var model: Scores
        public var copyLastFrame: Scores
        public var zeroActions: Scores?
        public var shuffledActions: Scores?
        /// PSNR of the model minus the baseline's, in dB.
        public var psnrGainOverCopyLast: Double
    }

    /// Frames `[B, F, 3, H, W]` in [0, 1] predicted from the context and `actions`.
    public func predict(_ video: Tensor, actions: Tensor?) throws -> Tensor {
        let clips = ClipCodec(codec)
        let shaped = try clips.latents(ofDatasetClips: video)
        let sampler = DiffusionForcingSampler(process: process, options: options)
        try manualSeed(seed)
        let samples = try withNoGrad {
            try sampler.sample({ x, t in try self.model(x, t: t, action: actions) }, shape: shaped.shape,
                               context: shaped, contextFrames: contextFrames,
                               frameByFrame: try model.frameByFrame(actions: actions))
        }
        return try ClipCodec.unit(try clips.decode(samples))
    }

    /// Mean PSNR and SSIM over the generated frames.
    public func scores(_ prediction: Tensor, _ truth: Tensor) throws -> Scores {
        let generated = truth.shape[1] - contextFrames
        let p = try prediction.narrow(dim: 1, start: contextFrames, length: generated).flatten(start: 0, end: 1)
        let t = try truth.narrow(dim: 1, start: contextFrames, length: generated).flatten(start: 0, end: 1)
        return Scores(psnr: try ImageMetrics.psnr(p, t).mean().item(Double.self),
                      ssim: try ImageMetrics.ssim(p, t).mean().item(Double.self))
    }

    /// The baseline every world model must beat: the last context frame, repeated.
    public func copyLastFrame(_ video: Tensor) throws -> Tensor {
        let last = try video.narrow(dim: 1, start: contextFrames - 1, length: 1)
        return try Tensor.cat([try video.narrow(dim: 1, start: 0, length: contextFrames),
                               try last.expand([video.shape[0], video.shape[1] - contextFrames] + Array(video.shape[2...]))], dim: 1)
    }

    public func evaluate(video: Tensor, actions: Tensor) throws -> (report: Report, prediction: Tensor) {
        let usesActions = model.config.useAction
        let prediction = try predict(video, actions: usesActions ? actions : nil)
        let ours = try scores(prediction, video)
        let baseline = try scores(try copyLastFrame(video), video)
        var report = Report(clips: video.shape[0], contextFrames: contextFrames, generatedFrames: video.shape[1] - contextFrames,
                            model: ours, copyLastFrame: baseline, zeroActions: nil, shuffledActions: nil,
                            psnrGainOverCopyLast: ours.psnr - baseline.psnr)
        if usesActions {
            report.zeroActions = try scores(try predict(video, actions: try Tensor.zeros(like: actions)), video)
            // Each clip gets another clip's actions.
            report.shuffledActions = try scores(try predict(video, actions: try actions.roll(shifts: [1], dims: [0])), video)
        }
        return (report, prediction)
    }
}
