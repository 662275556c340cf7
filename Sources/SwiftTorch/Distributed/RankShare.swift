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

    /// `gatherRows` of a float64 table held row-major in a flat array of `columns`-wide rows
    /// (empty where a rank has no rows): every rank's rows, in rank order, in the same layout.
    public func gatherRows(_ table: [Double], columns: Int) throws -> [Double] {
        let local = table.isEmpty ? try Tensor.zeros([0], dtype: .float64)
            : try Tensor(table, shape: [table.count / columns, columns])
        let all = try gatherRows(local)
        return all.shape.count == 2 ? try all.toArray(Double.self) : []
    }

    /// Every rank's rows of `matrix` (`[n_rank, …]`, n_rank may differ between ranks) stacked
    /// in rank order: with `share(of:)`'s blocks, the rows of a single-process run, in its order.
    /// A rank without rows may pass any empty tensor of the right dtype (it may not know the
    /// row shape, having computed nothing); ranks with rows must agree on their shape.
    public func gatherRows(_ matrix: Tensor) throws -> Tensor {
        let rows = matrix.shape.first ?? 0
        let width = Self.maximumGatheredRank + 1
        guard matrix.shape.count <= Self.maximumGatheredRank else {
            throw TorchError.invalidArgument("gatherRows takes tensors of at most \(Self.maximumGatheredRank) dimensions, got \(matrix.shape)")
        }
        // Each rank's row count and row shape, so that every rank pads and cuts alike.
        let header = [Int64(rows), Int64(matrix.shape.count)] + matrix.shape.dropFirst().map(Int64.init)
        let headers = try allGather(try Tensor(header + Array(repeating: 0, count: width - header.count))).toArray(Int64.self)
        let counts = (0..<worldSize).map { Int(headers[$0 * width]) }
        let rowShapes = (0..<worldSize).filter { counts[$0] > 0 }.map { rank -> [Int] in
            let base = rank * width, dimensions = Int(headers[base + 1])
            return (0..<(dimensions - 1)).map { Int(headers[base + 2 + $0]) }
        }
        guard let rowShape = rowShapes.first else { return matrix }
        guard rowShapes.allSatisfy({ $0 == rowShape }) else {
            throw TorchError.invalidArgument("gatherRows: the ranks' rows differ in shape (\(rowShapes)); every rank must gather rows of one shape")
        }
        let most = counts.max() ?? 0
        let filler = try Tensor.zeros([most - rows] + rowShape, dtype: matrix.dtype, device: matrix.device)
        let padded = rows == 0 ? filler : rows < most ? try Tensor.cat([matrix, filler], dim: 0) : matrix
        let gathered = try allGather(padded)
        return try Tensor.cat(try counts.enumerated().map { rank, count in
            try gathered.select(dim: 0, index: rank).narrow(dim: 0, start: 0, length: count)
        }, dim: 0)
    }

    static let maximumGatheredRank = 8
}
