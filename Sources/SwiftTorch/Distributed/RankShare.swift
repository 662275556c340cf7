/// Splitting work across the ranks of a group and putting the results back together, so
/// that a job split over N processes computes what one process computes: each rank takes a
/// contiguous block of the items (block sizes differ by at most one), and gathering the
/// blocks in rank order restores the original order.
public enum RankShare {
    /// The positions of `count` items that `rank` of `worldSize` takes.
    public static func range(count: Int, rank: Int, worldSize: Int) -> Range<Int> {
        let base = count / worldSize, extra = count % worldSize
        let start = rank * base + Swift.min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }
}

extension ProcessGroup {
    /// This rank's block of `items`.
    public func share<Item>(of items: [Item]) -> [Item] {
        Array(items[RankShare.range(count: items.count, rank: rank, worldSize: worldSize)])
    }

    /// Element-wise sums over the ranks, in float64 (for metric sums and counts).
    public func sum(_ values: [Double]) throws -> [Double] {
        let tensor = try Tensor(values)
        try allReduce(tensor, .sum)
        return try tensor.toArray(Double.self)
    }

    /// Every rank's rows of `matrix` (`[n_rank, …]`, n_rank may differ between ranks) stacked
    /// in rank order: with `share(of:)`'s blocks, the rows of a single-process run, in its order.
    public func gatherRows(_ matrix: Tensor) throws -> Tensor {
        let counts = try allGather(try Tensor([Int64(matrix.shape[0])])).toArray(Int64.self).map(Int.init)
        let most = counts.max() ?? 0
        var padded = matrix
        if matrix.shape[0] < most {
            let filler = try Tensor.zeros([most - matrix.shape[0]] + Array(matrix.shape.dropFirst()), dtype: matrix.dtype, device: matrix.device)
            padded = try Tensor.cat([matrix, filler], dim: 0)
        }
        let gathered = try allGather(padded)
        return try Tensor.cat(try counts.enumerated().map { rank, count in
            try gathered.select(dim: 0, index: rank).narrow(dim: 0, start: 0, length: count)
        }, dim: 0)
    }
}
