import Foundation
import SwiftTorch

/// Upstream's `LatentMetricsLogger` for encoder-only codecs (spec §3.6): over predicted frames,
/// with p the sampled and g the encoded ground-truth latents, per batch
/// latent_mse = mean (p−g)², latent_mae = mean |p−g|, latent_rmse = √mse,
/// latent_nmse = mse / max(mean g², 1e-12), latent_cosine_distance = 1 − mean over clips of the
/// cosine similarity of each clip's flattened p and g; each averaged over batches weighted by
/// batch size, as Lightning's epoch mean of `self.log(..., batch_size=B)` does.
public struct LatentMetricAccumulator {
    public static let names = ["latent_mse", "latent_nmse", "latent_mae", "latent_rmse", "latent_cosine_distance"]
    /// Each batch's five values and its size, in the order added.
    private var batches: [(values: [Double], size: Int)] = []

    public init() {}

    /// - Parameters: prediction, truth: `[B, T, C, h, w]` latents.
    public mutating func add(prediction: Tensor, truth: Tensor, contextFrames: Int) throws {
        let frames = prediction.shape[1] - contextFrames
        let p = try prediction.narrow(dim: 1, start: contextFrames, length: frames).to(.float32)
        let g = try truth.narrow(dim: 1, start: contextFrames, length: frames).to(.float32)
        let diff = try p - g
        let mse = try diff.square().mean().item(Double.self)
        let mae = try diff.abs().mean().item(Double.self)
        let nmse = mse / Swift.max(try g.square().mean().item(Double.self), 1e-12)
        let batch = p.shape[0]
        let pf = try p.reshape([batch, -1]), gf = try g.reshape([batch, -1])
        // F.cosine_similarity: x·y / max(‖x‖·‖y‖, 1e-8).
        let dot = try (pf * gf).sum(dim: 1)
        let norms = try (pf.square().sum(dim: 1) * gf.square().sum(dim: 1)).sqrt().clamp(min: 1e-8)
        let cosine = 1 - (try (dot / norms).mean().item(Double.self))
        batches.append(([mse, nmse, mae, mse.squareRoot(), cosine], batch))
    }

    /// Replaces this rank's batches with every rank's, in rank order: with the ranks taking
    /// consecutive blocks of batches, what one process adding them all holds.
    public mutating func gather(over group: ProcessGroup) throws {
        let values = try group.gatherRows(batches.flatMap { $0.values + [Double($0.size)] }, columns: 6)
        batches = stride(from: 0, to: values.count, by: 6).map { (Array(values[$0..<($0 + 5)]), Int(values[$0 + 5])) }
    }

    public func summary(clips: Int, contextFrames: Int, frames: Int) -> MetricsSummary {
        var out = MetricsSummary()
        var sums = [Double](repeating: 0, count: 5), weight = 0
        for batch in batches {
            for (i, value) in batch.values.enumerated() { sums[i] += value * Double(batch.size) }
            weight += batch.size
        }
        out.metrics = zip(Self.names, sums).map { ($0, $1 / Double(Swift.max(weight, 1))) }
        out.counts = [("clips", clips), ("frames_per_clip", frames), ("context_frames", contextFrames),
                      ("predicted_frames", clips * (frames - contextFrames))]
        out.notes = ["latent metrics: the codec has no decoder, so no pixels, LPIPS, FID or FVD (as upstream)"]
        return out
    }
}
