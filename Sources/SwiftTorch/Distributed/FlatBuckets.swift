/// Tensors packed into flat buffers of at most `capacityBytes` each (one dtype and device per
/// buffer), so a collective moves many small tensors in a few large messages, as DDP's
/// gradient buckets do (25 MiB by default, and a first bucket of `firstCapacityBytes`, 1 MiB
/// in DDP, so that its allreduce starts early in the backward pass).
struct FlatBuckets {
    /// Indices into the tensor list, one array per bucket.
    let buckets: [[Int]]

    init(_ tensors: [Tensor], capacityBytes: Int = 25 << 20, firstCapacityBytes: Int? = nil) {
        var buckets: [[Int]] = [], current: [Int] = [], bytes = 0
        for (index, tensor) in tensors.enumerated() {
            let size = tensor.count * tensor.dtype.byteSize
            let capacity = buckets.isEmpty ? firstCapacityBytes ?? capacityBytes : capacityBytes
            if let last = current.last, tensors[last].dtype != tensor.dtype || tensors[last].device != tensor.device
                || bytes + size > capacity {
                buckets.append(current)
                (current, bytes) = ([], 0)
            }
            current.append(index)
            bytes += size
        }
        if !current.isEmpty { buckets.append(current) }
        self.buckets = buckets
    }

    /// For each bucket: the tensors (nil ones as zeros) flattened into one buffer, `body`
    /// run on it, and the buffer's values copied back into the tensors that exist.
    static func run(_ tensors: [Tensor?], like shapes: [Tensor], buckets: FlatBuckets, _ body: (Tensor) throws -> Void) throws {
        try withNoGrad {
            for bucket in buckets.buckets {
                let flat = try Tensor.cat(try bucket.map { index in
                    try (tensors[index] ?? Tensor.zeros(like: shapes[index])).reshape([-1])
                })
                try body(flat)
                var offset = 0
                for index in bucket {
                    let count = shapes[index].count
                    if let target = tensors[index] {
                        try target.copy_(try flat.narrow(dim: 0, start: offset, length: count).view(target.shape))
                    }
                    offset += count
                }
            }
        }
    }
}

extension ProcessGroup {
    /// Gives every rank rank `root`'s values of `tensors` (parameters and buffers at the start
    /// of training), in flat buckets.
    public func broadcast(_ tensors: [Tensor], from root: Int = 0, capacityBytes: Int = 25 << 20) throws {
        try FlatBuckets.run(tensors, like: tensors, buckets: FlatBuckets(tensors, capacityBytes: capacityBytes)) {
            try broadcast($0, from: root)
        }
    }
}
