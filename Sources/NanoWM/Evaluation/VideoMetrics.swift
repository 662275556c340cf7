import Foundation
import SwiftTorch

/// One frame's scores against its ground truth (a row of `--per-clip` CSV).
public struct FrameScore {
    public var clip: String
    public var frame: Int
    public var isContext: Bool
    public var mse: Double
    public var psnr: Double
    public var ssim: Double
    public var lpips: Double?
}

/// What a scoring run found: metric values, sample counts and notes (metrics left out, why).
public struct MetricsSummary {
    /// In report order: mse, psnr, ssim, lpips, fid, fvd, fvd_standard.
    public var metrics: [(name: String, value: Double)] = []
    public var counts: [(name: String, value: Int)] = []
    public var notes: [String] = []
    /// Mean of each per-frame metric at each predicted frame index (for the plot).
    public var perFrame: [(name: String, values: [Double])] = []

    public func value(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}

/// Scores predicted clips against ground truth as upstream's `Evaluator` and `MetricsLogger`
/// do (spec §3.3): clamped to [−1, 1]; only frames K…T−1 count; MSE in [−1, 1] space; PSNR and
/// SSIM (piqa) on [0, 1]; LPIPS VGG; FID on every predicted frame's Inception features pooled
/// over all clips; FVD from I3D features of the predicted part of each clip, only when it has
/// at least 10 frames. Per-frame metrics are averaged over all predicted frames, which equals
/// upstream's mean of per-batch means whenever batches are equal (its fixed-subset protocol).
public final class VideoMetricAccumulator {
    public static let minimumFVDFrames = 10
    public let contextFrames: Int
    public let networks: MetricNetworks
    public private(set) var rows: [FrameScore] = []
    private var framesPerClip: Int?
    private var clips = 0
    private var inception: (truth: [Tensor], prediction: [Tensor]) = ([], [])
    private var i3d: (truth: [Tensor], prediction: [Tensor]) = ([], [])
    private var i3dStandard: (truth: [Tensor], prediction: [Tensor]) = ([], [])

    public init(contextFrames: Int, networks: MetricNetworks) {
        self.contextFrames = contextFrames
        self.networks = networks
    }

    /// Adds clips `[B, T, 3, H, W]` in [−1, 1] (values outside are clamped, as upstream does).
    public func add(prediction: Tensor, truth: Tensor, names: [String]) throws {
        guard prediction.shape == truth.shape else {
            throw EvaluationError("prediction \(prediction.shape) and ground truth \(truth.shape) differ in shape; pass clips of equal size")
        }
        guard prediction.shape.count == 5, prediction.shape[2] == 3 else {
            throw EvaluationError("clips must be [N, T, 3, H, W], got \(prediction.shape)")
        }
        let (batch, frames) = (prediction.shape[0], prediction.shape[1])
        let (height, width) = (prediction.shape[3], prediction.shape[4])
        guard height >= 11, width >= 11 else {
            throw EvaluationError("frames of \(width)×\(height) pixels are too small for SSIM's 11×11 window; pass frames of at least 11×11")
        }
        guard contextFrames >= 0, contextFrames < frames else {
            throw EvaluationError("\(contextFrames) context frames leave nothing to score in \(frames)-frame clips; pass a smaller --context")
        }
        if let known = framesPerClip, known != frames {
            throw EvaluationError("clips of \(known) and \(frames) frames mixed; every clip must have the same length")
        }
        framesPerClip = frames
        clips += batch
        let p = try prediction.to(.float32).clamp(min: -1, max: 1), g = try truth.to(.float32).clamp(min: -1, max: 1)
        try scoreFrames(p, g, names: names)
        let predicted = frames - contextFrames
        let pPred = try p.narrow(dim: 1, start: contextFrames, length: predicted)
        let gPred = try g.narrow(dim: 1, start: contextFrames, length: predicted)
        if let net = networks.inception {
            inception.truth.append(try net.features(try gPred.flatten(start: 0, end: 1)).to(.float64))
            inception.prediction.append(try net.features(try pPred.flatten(start: 0, end: 1)).to(.float64))
        }
        if let net = networks.i3d, predicted >= Self.minimumFVDFrames {
            i3d.truth.append(try net.features(gPred, range: .unit).to(.float64))
            i3d.prediction.append(try net.features(pPred, range: .unit).to(.float64))
            i3dStandard.truth.append(try net.features(gPred, range: .signed).to(.float64))
            i3dStandard.prediction.append(try net.features(pPred, range: .signed).to(.float64))
        }
    }

    private func scoreFrames(_ p: Tensor, _ g: Tensor, names: [String]) throws {
        let (batch, frames) = (p.shape[0], p.shape[1])
        let pf = try p.flatten(start: 0, end: 1), gf = try g.flatten(start: 0, end: 1)
        let mse = try (pf - gf).square().mean(dims: [1, 2, 3]).to(.float64).toArray(Double.self)
        let (p01, g01) = (try (pf + 1.0) / 2.0, try (gf + 1.0) / 2.0)
        let psnr = try ImageMetrics.psnr(p01, g01).to(.float64).toArray(Double.self)
        let ssim = try ImageMetrics.ssim(p01, g01).to(.float64).toArray(Double.self)
        let lpips = try networks.lpips.map { try $0.distances(pf, gf).to(.float64).toArray(Double.self) }
        for b in 0..<batch {
            for t in 0..<frames {
                let i = b * frames + t
                rows.append(FrameScore(clip: b < names.count ? names[b] : "clip\(clips - batch + b)", frame: t,
                                       isContext: t < contextFrames, mse: mse[i], psnr: psnr[i], ssim: ssim[i],
                                       lpips: lpips?[i]))
            }
        }
    }

    /// Replaces what this rank scored with what every rank of `group` scored, in rank order:
    /// with the ranks taking consecutive blocks of clips, that is row for row and feature for
    /// feature what one process scoring them all holds, so every rank's summary is a single
    /// process's. `names`: every clip's name, in order.
    public func gather(over group: ProcessGroup, names: [String]) throws {
        let sizes = try group.allGather(try Tensor([Int64(clips), Int64(framesPerClip ?? 0)])).toArray(Int64.self)
        let total = stride(from: 0, to: sizes.count, by: 2).reduce(0) { $0 + Int(sizes[$1]) }
        let frames = stride(from: 1, to: sizes.count, by: 2).map { Int(sizes[$0]) }.max() ?? 0
        guard total == names.count else {
            throw EvaluationError("the ranks scored \(total) clips between them, but \(names.count) were named")
        }
        let columns = 7
        let values = try group.gatherRows(rows.flatMap {
            [Double($0.frame), $0.isContext ? 1 : 0, $0.mse, $0.psnr, $0.ssim, $0.lpips == nil ? 0 : 1, $0.lpips ?? 0]
        }, columns: columns)
        rows = stride(from: 0, to: values.count, by: columns).map { start in
            let v = values[start..<(start + columns)].map { $0 }
            return FrameScore(clip: names[start / columns / frames], frame: Int(v[0]), isContext: v[1] != 0,
                              mse: v[2], psnr: v[3], ssim: v[4], lpips: v[5] == 0 ? nil : v[6])
        }
        func gathered(_ parts: [Tensor]) throws -> [Tensor] {
            let all = try group.gatherRows(parts.isEmpty ? try Tensor.zeros([0], dtype: .float64) : try Tensor.cat(parts))
            return all.shape.first ?? 0 > 0 && all.shape.count == 2 ? [all] : []
        }
        inception = (try gathered(inception.truth), try gathered(inception.prediction))
        i3d = (try gathered(i3d.truth), try gathered(i3d.prediction))
        i3dStandard = (try gathered(i3dStandard.truth), try gathered(i3dStandard.prediction))
        clips = total
        framesPerClip = total > 0 ? frames : nil
    }

    /// The metrics over everything added.
    public func summary() throws -> MetricsSummary {
        guard clips > 0, let frames = framesPerClip else { throw EvaluationError("no clips to score") }
        var out = MetricsSummary()
        let scored = rows.filter { !$0.isContext }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        out.metrics = [("mse", mean(scored.map(\.mse))), ("psnr", mean(scored.map(\.psnr))), ("ssim", mean(scored.map(\.ssim)))]
        if networks.lpips != nil { out.metrics.append(("lpips", mean(scored.compactMap(\.lpips)))) }
        else { out.notes.append("lpips omitted: no LPIPS network given") }
        let predicted = frames - contextFrames
        if networks.inception != nil {
            let remedy = "FID pools every predicted frame; pass more clips or frames"
            let real = try FrechetDistance.Statistics(Tensor.cat(inception.truth), what: "FID features of the ground truth", remedy: remedy)
            let fake = try FrechetDistance.Statistics(Tensor.cat(inception.prediction), what: "FID features of the predictions", remedy: remedy)
            out.metrics.append(("fid", try FrechetDistance.pytorchFID(real, fake)))
            out.counts.append(("fid_frames_per_side", real.count))
        } else { out.notes.append("fid omitted: no Inception network given") }
        if networks.i3d == nil {
            out.notes.append("fvd omitted: no I3D network given")
        } else if predicted < Self.minimumFVDFrames {
            out.notes.append("fvd omitted: clips have \(predicted) predicted frames; FVD needs at least \(Self.minimumFVDFrames), as upstream")
        } else {
            let remedy = "FVD has one sample per clip; pass at least 2 clips"
            for (name, set) in [("fvd", i3d), ("fvd_standard", i3dStandard)] {
                let real = try FrechetDistance.Statistics(Tensor.cat(set.truth), what: "FVD features of the ground truth", remedy: remedy)
                let fake = try FrechetDistance.Statistics(Tensor.cat(set.prediction), what: "FVD features of the predictions", remedy: remedy)
                out.metrics.append((name, try FrechetDistance.upstreamFVD(fake, real)))
            }
            out.counts.append(("fvd_clips_per_side", clips))
        }
        out.counts = [("clips", clips), ("frames_per_clip", frames), ("context_frames", contextFrames),
                      ("predicted_frames", clips * predicted)] + out.counts
        out.perFrame = try perFrameMeans(scored, frames: frames)
        return out
    }

    private func perFrameMeans(_ scored: [FrameScore], frames: Int) throws -> [(name: String, values: [Double])] {
        let indices = Array(contextFrames..<frames)
        func curve(_ value: (FrameScore) -> Double?) -> [Double] {
            indices.map { t in
                let values = scored.filter { $0.frame == t }.compactMap(value)
                return values.reduce(0, +) / Double(Swift.max(values.count, 1))
            }
        }
        var out: [(String, [Double])] = [("mse", curve { $0.mse }), ("psnr", curve { $0.psnr }), ("ssim", curve { $0.ssim })]
        if networks.lpips != nil { out.append(("lpips", curve { $0.lpips })) }
        return out
    }
}
