import Foundation
import SwiftTorch
import PythonCompatible
import NanoWMFormats

/// Per-dimension action statistics of a split, raw (before chunking), `std` including
/// upstream's `+1e-6`. Found as upstream finds them: its on-disk cache
/// `<root>/wm_stats_cache/<kind>_<split>_<digest16>.pt` (shared with upstream both ways), else
/// the statistics the files ship (LeRobot), else computed over the split's trajectories (mean
/// and unbiased std of `actions[:length]`) and cached.
public struct ActionStatistics {
    public var mean: Tensor
    public var std: Tensor

    public init(mean: Tensor, std: Tensor) {
        self.mean = mean
        self.std = std
    }

    /// `progress(done, total)` is called while trajectories are read for a first computation.
    public static func of(_ source: TrajectorySource, split: TrajectorySplit, trajectories: [Int],
                          progress: ((Int, Int) -> Void)? = nil) throws -> ActionStatistics {
        let path = cachePath(source, kind: "action", split: split, trajectories: trajectories,
                             dimension: source.actionDimension)
        if let cached = load(path) { return cached }
        let statistics: ActionStatistics
        if let shipped = try source.shippedActionStatistics() {
            statistics = ActionStatistics(mean: try shipped.mean.to(.float32), std: try shipped.std.to(.float32) + 1e-6)
        } else {
            statistics = try compute(source, trajectories: trajectories, progress: progress)
        }
        save(statistics, to: path)
        return statistics
    }

    static func compute(_ source: TrajectorySource, trajectories: [Int], progress: ((Int, Int) -> Void)?) throws -> ActionStatistics {
        guard !trajectories.isEmpty else { throw DataError("\(source.location): no trajectories in the split to compute action statistics from") }
        var rows: [Tensor] = []
        for (done, index) in trajectories.enumerated() {
            let record = try source.finiteTrajectory(index)
            rows.append(try record.actions.narrow(dim: 0, start: 0, length: record.length))
            progress?(done + 1, trajectories.count)
        }
        let all = try Tensor.cat(rows, dim: 0)
        return ActionStatistics(mean: try all.mean(dim: 0), std: try all.std(dims: [0]) + 1e-6)
    }

    /// Tiled fi times (`[m0, m1, m0, m1, …]`), the layout of chunked action rows.
    public func tiled(_ frameInterval: Int) throws -> ActionStatistics {
        ActionStatistics(mean: try mean.repeating([frameInterval]), std: try std.repeating([frameInterval]))
    }

    // MARK: Planning

    /// The statistics file upstream's planner picks under a dataset folder: the alphabetically
    /// first `wm_stats_cache/action_train_*.pt` (glob + sorted: byte order), or nil.
    public static func file(in dataFolder: URL) -> URL? {
        let cache = dataFolder.appendingPathComponent("wm_stats_cache")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []
        let matches = names.filter { $0.hasPrefix("action_train_") && $0.hasSuffix(".pt") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return matches.first.map { cache.appendingPathComponent($0) }
    }

    /// A statistics file the user points at (unlike the cache, a bad one is an error), tiled
    /// `frameInterval` times to the model's action width.
    public init(reading path: String, frameInterval: Int) throws {
        let root = try TorchArchive.read(path).root
        func vector(_ key: String) throws -> Tensor {
            guard let tensor = try root[key]?.tensor?.load().to(.float32).flatten() else {
                throw DataError("\(path): no '\(key)' tensor; an action statistics file holds 'mean' and 'std' (torch.save({'mean': …, 'std': …}))")
            }
            guard tensor.count > 0, try tensor.toArray(Float.self).allSatisfy(\.isFinite) else {
                throw DataError("\(path): '\(key)' is empty or not finite; rebuild the dataset's statistics cache")
            }
            return tensor
        }
        let (mean, std) = (try vector("mean"), try vector("std"))
        guard mean.count == std.count else {
            throw DataError("\(path): 'mean' has \(mean.count) values and 'std' \(std.count); they must match")
        }
        self = try ActionStatistics(mean: mean, std: std).tiled(Swift.max(frameInterval, 1))
    }

    /// `x · std + mean` per dimension: a normalised model action back in the environment's units.
    public func denormalize(_ action: [Double]) throws -> [Double] {
        let (m, s) = (try mean.to(.float64).toArray(Double.self), try std.to(.float64).toArray(Double.self))
        guard action.count == m.count else {
            throw DataError("the model's actions have \(action.count) values, the dataset's statistics \(m.count)")
        }
        return zip(action, zip(s, m)).map { $0 * $1.0 + $1.1 }
    }

    // MARK: The cache

    /// Upstream's `stats_cache.cache_path`: the digest is the first 16 hex digits of the SHA-1
    /// of a sorted-keys JSON naming the source, kind, split, counts, the SHA-1 of the sorted
    /// indices' Python repr, and the raw dimension.
    public static func cachePath(_ source: TrajectorySource, kind: String, split: TrajectorySplit, trajectories: [Int],
                                 dimension: Int) -> URL {
        let identity = source.statisticsIdentity
        let root = identity.root ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/nano-world-model")
        let name = cacheName(identity: identity.id, kind: kind, split: split.rawValue, trajectories: trajectories,
                             total: source.trajectoryCount, dimension: dimension)
        return root.appendingPathComponent("wm_stats_cache").appendingPathComponent(name)
    }

    public static func cacheName(identity: String, kind: String, split: String, trajectories: [Int], total: Int, dimension: Int) -> String {
        let sorted = trajectories.sorted()
        let repr = sorted.count == 1 ? "(\(sorted[0]),)" : "(" + sorted.map(String.init).joined(separator: ", ") + ")"
        // json.dumps(payload, sort_keys=True) with its default separators and ASCII escaping.
        let payload = "{\"dim\": \(dimension), \"id\": \(PythonJSON.string(identity)), \"indices_hash\": \"\(SHA1.hex(Array(repr.utf8)))\", "
            + "\"kind\": \(PythonJSON.string(kind)), \"num_traj_split\": \(sorted.count), \"num_traj_total\": \(total), "
            + "\"split\": \(PythonJSON.string(split))}"
        return "\(kind)_\(split)_\(SHA1.hex(Array(payload.utf8)).prefix(16)).pt"
    }

    /// A cache file `{mean, std}`; nil (recompute) when absent or unreadable, as upstream.
    static func load(_ url: URL) -> ActionStatistics? {
        guard FileManager.default.fileExists(atPath: url.path),
              let root = try? TorchArchive.read(url.path).root,
              let mean = try? root["mean"]?.tensor?.load().to(.float32),
              let std = try? root["std"]?.tensor?.load().to(.float32) else { return nil }
        return ActionStatistics(mean: mean, std: std)
    }

    /// Best effort, as upstream: a cache that cannot be written never stops a run.
    static func save(_ statistics: ActionStatistics, to url: URL) {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let dict = PickleDict([("mean", .tensor(TensorRef(statistics.mean))), ("std", .tensor(TensorRef(statistics.std)))])
        try? TorchArchive.write(.dict(dict), to: url.path)
    }
}
