import CTorchShim

/// Seeds every default generator, exactly as `torch.manual_seed`: with the same seed and the
/// same sequence of calls, `randn`/`rand`/`randint` give PyTorch's numbers on CPU.
public func manualSeed(_ seed: UInt64) throws {
    try check(ctorch_manual_seed(seed))
}

/// An explicit random generator (`torch.Generator`), independent of the global one.
public final class Generator {
    let handle: OpaquePointer?

    /// The process's default CPU generator (the one `manualSeed` seeds).
    public static let defaultCPU = Generator(handle: nil)

    private init(handle: OpaquePointer?) { self.handle = handle }

    public init(seed: UInt64, device: Device = .cpu) throws {
        try device.ensureAvailable()
        var out: OpaquePointer?
        try check(ctorch_generator_new(seed, device.typeCode, device.index, &out))
        handle = out
    }

    deinit {
        if let handle { ctorch_generator_free(handle) }
    }

    public var initialSeed: UInt64 {
        get throws {
            var seed: UInt64 = 0
            try check(ctorch_generator_seed(handle, &seed))
            return seed
        }
    }

    /// The full generator state as a uint8 tensor (`get_state()`), for exact resume.
    public func state() throws -> Tensor {
        try makeTensor { ctorch_generator_get_state(handle, $0) }
    }

    public func setState(_ state: Tensor) throws {
        try check(ctorch_generator_set_state(handle, state.handle))
    }
}

extension Tensor {
    private static func random(_ distribution: ctorch_distribution, _ shape: [Int], _ dtype: DType, _ device: Device, _ generator: Generator?) throws -> Tensor {
        try device.ensureAvailable()
        return try makeTensor { out in
            withInt64Pointer(shape) {
                ctorch_random(distribution, $0, Int32(shape.count), dtype.rawValue, device.typeCode, device.index, generator?.handle, out)
            }
        }
    }

    /// Standard normal samples (`torch.randn`).
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
        try random(CTORCH_DIST_NORMAL, shape, dtype, device, generator)
    }

    /// Uniform samples on [0, 1) (`torch.rand`).
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
        try random(CTORCH_DIST_UNIFORM, shape, dtype, device, generator)
    }

    /// Integers uniform on [low, high) (`torch.randint`).
    public static func randint(_ low: Int = 0, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
        try device.ensureAvailable()
        return try makeTensor { out in
            withInt64Pointer(shape) {
                ctorch_randint(Int64(low), Int64(high), $0, Int32(shape.count), dtype.rawValue, device.typeCode, device.index, generator?.handle, out)
            }
        }
    }

    /// A random permutation of 0..<n (`torch.randperm`).
    public static func randperm(_ n: Int, dtype: DType = .int64, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
        try device.ensureAvailable()
        return try makeTensor { ctorch_randperm(Int64(n), dtype.rawValue, device.typeCode, device.index, generator?.handle, $0) }
    }

    public static func randn(like t: Tensor, generator: Generator? = nil) throws -> Tensor {
        try randn(t.shape, dtype: t.dtype, device: t.device, generator: generator)
    }

    /// Fills in place with U(low, high) (`Tensor.uniform_`).
    @discardableResult
    public func uniform_(_ low: Double = 0, _ high: Double = 1, generator: Generator? = nil) throws -> Tensor {
        try check(ctorch_random_(CTORCH_DIST_UNIFORM, handle, low, high, generator?.handle))
        return self
    }

    /// Fills in place with N(mean, std²) (`Tensor.normal_`).
    @discardableResult
    public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws -> Tensor {
        try check(ctorch_random_(CTORCH_DIST_NORMAL, handle, mean, std, generator?.handle))
        return self
    }
}
