import Foundation
import SwiftTorch
import NanoWMFormats
import NanoWMCore

/// Predicted and ground-truth clips to score, from what `nanowm metrics` accepts:
/// - two safetensors files with key `frames`, `[N, T, 3, H, W]` float in [−1, 1];
/// - a folder of `sample_<id>_gen.mp4` / `sample_<id>_gt.mp4` pairs (upstream's
///   `evaluate_metrics.py` layout; 8-bit frames mapped x/255·2−1 as it does);
/// - a folder holding upstream's `eval_videos/**/raw_data.npz` (`pred`, `gt` `[3, T, H, W]`
///   in [0, 1]), so a PyTorch run's predictions are scored by the same code as ours.
/// Clips are loaded one at a time (`load`), so a folder of many videos never sits in memory.
public struct ClipPairs {
    public struct Pair {
        public let name: String
        /// `[T, 3, H, W]` prediction and truth in [−1, 1].
        public let load: () throws -> (prediction: Tensor, truth: Tensor)
    }

    public let pairs: [Pair]
    /// What the inputs were, for the metrics file's settings.
    public let description: String

    /// - Parameters:
    ///   - prediction: a safetensors file or a folder.
    ///   - truth: the ground-truth safetensors file (files); ignored or equal for folders.
    public init(prediction: String, truth: String?) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: prediction, isDirectory: &isFolder) else {
            throw EvaluationError("--pred \(prediction): no such file or folder")
        }
        if isFolder.boolValue {
            if let truth, URL(fileURLWithPath: truth).standardized != URL(fileURLWithPath: prediction).standardized {
                throw EvaluationError("--gt \(truth): a folder holds predictions and ground truth together; pass the folder as --pred alone")
            }
            (pairs, description) = try Self.folder(prediction)
        } else {
            guard let truth else { throw EvaluationError("--pred \(prediction) is a file; pass the ground truth with --gt FILE") }
            (pairs, description) = try Self.files(prediction, truth)
        }
        guard !pairs.isEmpty else {
            throw EvaluationError("\(prediction): no clips found (expected sample_<id>_gen.mp4 with sample_<id>_gt.mp4, or eval_videos/**/raw_data.npz)")
        }
    }

    private static func files(_ prediction: String, _ truth: String) throws -> ([Pair], String) {
        let layout = "([N, T, 3, H, W] in [-1, 1])"
        guard FileManager.default.fileExists(atPath: truth) else { throw EvaluationError("--gt \(truth): no such file") }
        let p = try InputFile(prediction).values("frames", layout: layout)
        let g = try InputFile(truth).values("frames", layout: layout)
        guard p.shape.count == 5, p.shape[2] == 3 else {
            throw EvaluationError("\(prediction): 'frames' has shape \(p.shape); expected [N, T, 3, H, W] in [-1, 1]")
        }
        guard p.shape == g.shape else {
            throw EvaluationError("\(prediction) 'frames' \(p.shape) and \(truth) 'frames' \(g.shape) differ in shape; pass clips of equal size")
        }
        let pairs = (0..<p.shape[0]).map { i in
            Pair(name: "\(i)") { (try p.select(dim: 0, index: i), try g.select(dim: 0, index: i)) }
        }
        return (pairs, "safetensors")
    }

    private static func folder(_ root: String) throws -> ([Pair], String) {
        let rootURL = URL(fileURLWithPath: root)
        let files = (FileManager.default.enumerator(at: rootURL, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? [])
            .map { $0.standardized }.sorted { $0.path < $1.path }
        let npz = files.filter { $0.lastPathComponent == "raw_data.npz" }
        if !npz.isEmpty {
            let prefix = rootURL.standardized.path + "/"
            return (npz.map { url in
                let name = url.deletingLastPathComponent().path.replacingOccurrences(of: prefix, with: "")
                return Pair(name: name) { try rawData(url) }
            }, "eval_videos raw_data.npz")
        }
        let generated = files.filter { $0.deletingLastPathComponent() == rootURL.standardized && $0.lastPathComponent.hasSuffix("_gen.mp4") }
        return (try generated.map { url in
            let stem = String(url.lastPathComponent.dropLast("_gen.mp4".count))
            let truth = url.deletingLastPathComponent().appendingPathComponent(stem + "_gt.mp4")
            guard FileManager.default.fileExists(atPath: truth.path) else {
                throw EvaluationError("\(url.path) has no ground truth \(truth.lastPathComponent) beside it; add it or remove the prediction")
            }
            let name = stem.hasPrefix("sample_") ? String(stem.dropFirst("sample_".count)) : stem
            return Pair(name: name) { try videoPair(url, truth) }
        }, "mp4 pairs")
    }

    private static func rawData(_ url: URL) throws -> (prediction: Tensor, truth: Tensor) {
        let arrays = try NumpyArchive.read(url.path)
        guard let p = arrays["pred"], let g = arrays["gt"] else {
            throw EvaluationError("\(url.path): expected arrays 'pred' and 'gt' (upstream's raw_data.npz), found \(arrays.keys.sorted())")
        }
        guard p.shape.count == 4, p.shape[0] == 3, p.shape == g.shape else {
            throw EvaluationError("\(url.path): 'pred' \(p.shape) and 'gt' \(g.shape) must both be [3, T, H, W]")
        }
        // Upstream writes float frames in [0, 1]; anything else (8-bit frames, [−1, 1] frames,
        // NaN) would be scored as if it were, so it is refused.
        for (key, x) in [("pred", p), ("gt", g)] {
            guard x.dtype.isFloatingPoint else {
                throw EvaluationError("\(url.path): '\(key)' holds \(x.dtype) values; raw_data.npz holds float frames in [0, 1], as upstream writes it")
            }
            guard try x.isfinite().all().item(Bool.self) else {
                throw EvaluationError("\(url.path): '\(key)' holds NaN or infinite values; nothing to score")
            }
            let (low, high) = (try x.min().item(Double.self), try x.max().item(Double.self))
            guard low >= -0.01, high <= 1.01 else {
                throw EvaluationError("\(url.path): '\(key)' spans [\(low), \(high)]; raw_data.npz holds frames in [0, 1], as upstream writes it")
            }
        }
        func signed(_ x: Tensor) throws -> Tensor { try x.to(.float32).permute(1, 0, 2, 3).contiguous() * 2.0 - 1.0 }
        return (try signed(p), try signed(g))
    }

    private static func videoPair(_ prediction: URL, _ truth: URL) throws -> (prediction: Tensor, truth: Tensor) {
        let p = try MP4Writer.read(prediction), g = try MP4Writer.read(truth)
        guard p.shape == g.shape else {
            throw EvaluationError("\(prediction.lastPathComponent) has \(p.shape[0]) frames of \(p.shape[3])×\(p.shape[2]), \(truth.lastPathComponent) \(g.shape[0]) of \(g.shape[3])×\(g.shape[2]); a pair must match (re-export both videos)")
        }
        return (try signedFrames(p), try signedFrames(g))
    }
}
