import Foundation
import SwiftTorch
import PythonCompatible
import NanoWMFormats

/// One clip's place in its trajectory (upstream's `SliceInfo` / slice spec): raw steps
/// `start..<end`, `end − start = T·fi`.
public struct ClipSlice: Equatable, Hashable, Sendable {
    public var trajectory: Int
    public var start: Int
    public var end: Int

    public init(trajectory: Int, start: Int, end: Int) {
        self.trajectory = trajectory
        self.start = start
        self.end = end
    }
}

/// Upstream's slicing (`_create_slices_exhaustive`): a clip of T frames every fi raw steps
/// needs `R = T·fi` raw steps (the last fi−1 so that the last action row is complete).
/// Trajectories are visited in the split's (shuffled) order.
public enum ClipSlicing {
    /// Every window `start = 0, stride, …, ≤ L − R` of every trajectory long enough, in order.
    public static func exhaustive(_ trajectories: [Int], length: (Int) throws -> Int, required: Int, stride: Int) throws -> [ClipSlice] {
        guard stride > 0 else { throw DataError("dataset.loader.stride must be positive (got \(stride))") }
        var slices: [ClipSlice] = []
        for trajectory in trajectories {
            let steps = try length(trajectory)
            guard steps >= required else { continue }
            for start in Swift.stride(from: 0, through: steps - required, by: stride) {
                slices.append(ClipSlice(trajectory: trajectory, start: start, end: start + required))
            }
        }
        return slices
    }

    /// One window per trajectory at a given start (CSGO's validation protocol): entry i goes
    /// with the i-th trajectory of the split order; a window that overruns is skipped, as
    /// upstream skips it.
    public static func fixedStarts(_ trajectories: [Int], starts: [Int], length: (Int) throws -> Int, required: Int) throws -> [ClipSlice] {
        guard starts.count == trajectories.count else {
            throw DataError("\(starts.count) fixed start indices for \(trajectories.count) validation trajectories; they must pair one to one")
        }
        return try zip(trajectories, starts).compactMap { trajectory, start in
            start + required <= (try length(trajectory)) ? ClipSlice(trajectory: trajectory, start: start, end: start + required) : nil
        }
    }
}

/// Upstream's random slice mode (`_getitem_random`): item i takes the (i mod n)-th trajectory
/// long enough for a clip and a start drawn uniformly from 0…L−R by the dataset's own
/// `RandomState(random_seed)`, draw after draw in the order items are asked for.
public final class RandomClipSampler {
    /// (trajectory, last valid start) of every trajectory long enough, in split order.
    public let ranges: [(trajectory: Int, maxStart: Int)]
    public let required: Int
    private var random: NumpyRandomState
    private let lock = NSLock()

    public init(_ trajectories: [Int], length: (Int) throws -> Int, required: Int, seed: Int) throws {
        ranges = try trajectories.compactMap { trajectory in
            let steps = try length(trajectory)
            return steps >= required ? (trajectory, steps - required) : nil
        }
        self.required = required
        random = try NumpyRandomState(seed: seed)
    }

    public func slice(forItem index: Int) throws -> ClipSlice {
        guard !ranges.isEmpty else { throw DataError("no trajectory is long enough for a clip of \(required) steps") }
        let (trajectory, maxStart) = ranges[index % ranges.count]
        lock.lock()
        defer { lock.unlock() }
        let start = maxStart > 0 ? try random.randint(0, maxStart + 1) : 0
        return ClipSlice(trajectory: trajectory, start: start, end: start + required)
    }
}
