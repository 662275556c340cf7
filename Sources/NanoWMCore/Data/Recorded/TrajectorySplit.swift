import SwiftTorch
import PythonCompatible

/// Upstream's trajectory-level split (`_split_trajectories_indices`): NumPy's global legacy
/// generator seeded with `random_seed` shuffles `arange(N)`; the first `int(N · split_ratio)`
/// are training trajectories and the rest validation, both kept in shuffled order.
public enum TrajectorySplit: String, Sendable {
    case train, val

    public func trajectories(count: Int, ratio: Double, seed: Int) throws -> [Int] {
        var random = try NumpyRandomState(seed: seed)
        let order = random.permutation(count)
        let cut = Swift.min(Swift.max(Int((Double(count) * ratio).rounded(.towardZero)), 0), count)
        return self == .train ? Array(order[..<cut]) : Array(order[cut...])
    }
}
