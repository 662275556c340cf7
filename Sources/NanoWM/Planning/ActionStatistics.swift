import Foundation
import SwiftTorch

/// Per-dimension action mean and standard deviation of a dataset, as upstream's planner reads
/// them to turn the model's normalised actions back into environment actions: the
/// alphabetically first `wm_stats_cache/action_train_*.pt` (a `torch.save` dict with `mean` and
/// `std`) under the dataset folder, tiled `frame_interval` times to the model's action width.
public struct ActionStatistics: Equatable, Sendable {
    public let mean: [Double]
    public let std: [Double]

    public init(mean: [Double], std: [Double]) {
        (self.mean, self.std) = (mean, std)
    }

    /// The statistics file upstream would pick under `dataFolder`, or nil when there is none.
    public static func file(in dataFolder: URL) -> URL? {
        let cache = dataFolder.appendingPathComponent("wm_stats_cache")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []
        // glob + sorted(): byte order of the full names.
        let matches = names.filter { $0.hasPrefix("action_train_") && $0.hasSuffix(".pt") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return matches.first.map { cache.appendingPathComponent($0) }
    }

    /// Reads `path` and tiles it `frameInterval` times.
    public init(reading path: String, frameInterval: Int) throws {
        let checkpoint = try Checkpoint.open(path)
        func vector(_ key: String) throws -> [Double] {
            guard let tensor = checkpoint.root[key]?.tensor else {
                throw DataError("\(path): no '\(key)' tensor; an action statistics file holds 'mean' and 'std' (torch.save({'mean': …, 'std': …}))")
            }
            let values = try tensor.load().to(.float64).flatten().toArray(Double.self)
            guard !values.isEmpty, values.allSatisfy(\.isFinite) else {
                throw DataError("\(path): '\(key)' is empty or not finite; rebuild the dataset's statistics cache")
            }
            return values
        }
        let (mean, std) = (try vector("mean"), try vector("std"))
        guard mean.count == std.count else {
            throw DataError("\(path): 'mean' has \(mean.count) values and 'std' \(std.count); they must match")
        }
        let times = Swift.max(frameInterval, 1)
        self.init(mean: Array((0..<times).map { _ in mean }.joined()), std: Array((0..<times).map { _ in std }.joined()))
    }

    /// `x · std + mean`, per dimension.
    public func denormalize(_ action: [Double]) throws -> [Double] {
        guard action.count == mean.count else {
            throw DataError("the model's actions have \(action.count) values, the dataset's statistics \(mean.count)")
        }
        return zip(action, zip(std, mean)).map { $0 * $1.0 + $1.1 }
    }
}
