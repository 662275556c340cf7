import CTorchShim

/// Averages the gradients of `parameters` across a process group while the backward pass is
/// still running, as DDP's reducer does: the parameters are packed into flat buckets in
/// reverse order (the order their gradients become ready), and a hook launches a bucket's
/// allreduce as soon as all its gradients have accumulated. `arm()` before the backward pass
/// whose gradients are to be averaged (the last micro-batch's: earlier ones accumulate
/// locally, as under DDP's `no_sync`), `finish()` after it. A parameter without a gradient
/// contributes zeros and stays without one; every rank runs the same model, so the same
/// parameters lack one everywhere. Failures are the group's one-line errors naming the rank
/// at fault.
public final class GradientExchange {
    public let group: ProcessGroup
    /// Parameter indices per bucket, in launch order.
    public let buckets: [[Int]]
    private let handle: OpaquePointer

    /// Buckets launched by the last backward pass itself (the rest waited for `finish()`).
    public private(set) var launchedDuringBackward = 0

    /// Buckets as DDP packs them: the first (last parameters) up to `firstCapacityBytes`, so its
    /// allreduce starts early, the others up to `capacityBytes`.
    public init(group: ProcessGroup, parameters: [Tensor], capacityBytes: Int = 25 << 20,
                firstCapacityBytes: Int = 1 << 20) throws {
        let reversed = Array(parameters.indices.reversed())
        let packed = FlatBuckets(reversed.map { parameters[$0] }, capacityBytes: capacityBytes,
                                 firstCapacityBytes: firstCapacityBytes).buckets
        buckets = packed.map { $0.map { reversed[$0] } }
        var bucketOf = [Int32](repeating: 0, count: parameters.count)
        for (bucket, members) in buckets.enumerated() { for index in members { bucketOf[index] = Int32(bucket) } }
        var handles = parameters.map { Optional($0.handle) }
        var out: OpaquePointer?
        try check(ctorch_gradient_exchange_new(group.group, &handles, bucketOf, Int32(parameters.count),
                                               ProcessGroup.milliseconds(group.timeout), &out))
        (self.group, self.handle) = (group, out!)
    }

    deinit { ctorch_gradient_exchange_free(handle) }

    /// The next backward pass launches each bucket's allreduce as soon as it is complete.
    public func arm() throws { try check(ctorch_gradient_exchange_arm(handle)) }

    /// Launches the buckets the backward pass left (parameters without a gradient), waits for
    /// every bucket and leaves the averages in the gradients.
    public func finish() throws {
        var (early, launched): (Int32, Int32) = (0, 0)
        let status = ctorch_gradient_exchange_launch_rest(handle, &early, &launched)
        launchedDuringBackward = Int(early)
        try group.collectives("gradient allreduce", count: Int(launched)) {
            status != 0 ? status : ctorch_gradient_exchange_wait(handle)
        }
    }
}
