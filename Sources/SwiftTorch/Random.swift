import CTorchShim

/// Seeds every default generator, exactly as `torch.manual_seed`: with the same seed and the
/// same sequence of calls, `randn`/`rand`/`randint` give PyTorch's numbers on CPU.
public func manualSeed(_ seed: UInt64) throws {
    try check(ctorch_manual_seed(seed))
}

/// An explicit random generator (`torch.Generator`), independent of the global one, or a
/// reference to a device's default generator (`default(for:)`).
///
/// A generator belongs to one device, and a draw on a device takes only that device's
/// generators: libtorch refuses a CPU generator for a CUDA draw, and the draws here check the
/// same rule for every device (`Tensor.randn` and the others throw libtorch's message), so
/// that code which makes its generator without the draw's device fails on the `meta` device
/// in tests on machines without CUDA, not first on a GPU.
public final class Generator {
    /// The device whose draws this generator serves.
    public let device: Device
    /// libtorch's generator; nil for the default CPU generator (the shim's NULL) and for a
    /// placement double, whose draws on `meta` then take no generator at all.
    let handle: OpaquePointer?
    /// The seed of a placement double (`meta`); nil for a libtorch generator.
    private var placementSeed: UInt64?

    /// The process's default CPU generator (the one `manualSeed` seeds).
    public static let defaultCPU = Generator(device: .cpu, handle: nil)

    private init(device: Device, handle: OpaquePointer?, placementSeed: UInt64? = nil) {
        (self.device, self.handle, self.placementSeed) = (device, handle, placementSeed)
    }

    /// A generator for draws on `device`, seeded with `seed`.
    ///
    /// libtorch has no `meta` generator (`torch.Generator(device='meta')` fails) and draws on
    /// `meta` consume no randomness, so on `meta` this is a placement test double: it holds only
    /// its seed, its draws pass no generator to libtorch, and its `state()` is the seed's 8
    /// bytes. It exists so that tests without CUDA can check that code makes its generators on
    /// the device it draws on.
    public init(seed: UInt64, device: Device = .cpu) throws {
        self.device = device
        if device == .meta {
            (handle, placementSeed) = (nil, seed)
            return
        }
        try device.ensureAvailable()
        var out: OpaquePointer?
        try check(ctorch_generator_new(seed, device.typeCode, device.index, &out))
        handle = out
    }

    /// The default generator of `device`: the one draws without a generator take and
    /// `manualSeed` seeds (`torch.cuda.default_generators[i]` for `cuda:i`). `meta` has none:
    /// its draws consume no randomness.
    public static func `default`(for device: Device) throws -> Generator {
        switch device {
        case .cpu:
            return defaultCPU
        case .cuda:
            try device.ensureAvailable()
            var out: OpaquePointer?
            try check(ctorch_generator_default(device.typeCode, device.index, &out))
            return Generator(device: device, handle: out)
        case .meta:
            throw TorchError.invalidArgument("meta has no default generator: its draws consume no randomness")
        }
    }

    deinit {
        if let handle { ctorch_generator_free(handle) }
    }

    public var initialSeed: UInt64 {
        get throws {
            if let placementSeed { return placementSeed }
            var seed: UInt64 = 0
            try check(ctorch_generator_seed(handle, &seed))
            return seed
        }
    }

    /// The full generator state as a uint8 tensor (`get_state()`), for exact resume. A
    /// placement double's is its seed, 8 bytes little-endian.
    public func state() throws -> Tensor {
        if let placementSeed { return try Tensor(withUnsafeBytes(of: placementSeed.littleEndian) { Array($0) }) }
        return try makeTensor { ctorch_generator_get_state(handle, $0) }
    }

    public func setState(_ state: Tensor) throws {
        if placementSeed != nil {
            let bytes = try state.dtype == .uint8 && state.count == 8 ? state.to(.cpu).toArray(UInt8.self) : []
            guard bytes.count == 8 else {
                throw TorchError.invalidArgument("a meta generator's state is its seed's 8 bytes (uint8); got \(state.dtype) of \(state.shape)")
            }
            placementSeed = UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            return
        }
        try check(ctorch_generator_set_state(handle, state.handle))
    }

    /// Throws libtorch's own refusal unless this generator may serve a draw on `draw`: the
    /// same device type (libtorch does not compare CUDA indices either).
    func checkPlacement(for draw: Device) throws {
        guard draw.typeCode != device.typeCode else { return }
        throw TorchError.invalidArgument("Expected a '\(draw.typeName)' device type for generator but found '\(device.typeName)'")
    }
}

/// The states of the default generators, captured to be put back: the CPU one and every CUDA
/// device's, the generators `manualSeed` seeds (as `torch.random.fork_rng` over all devices).
/// Work that draws from the global generators but must not change a run (validation,
/// evaluation during training, a codec probe) runs in `preserving`; draws on the model's
/// device then come back exactly as they would have without it, on CPU and GPU alike.
public struct GeneratorStates {
    /// Each device's generator state, the CPU first.
    public let states: [(device: Device, state: Tensor)]

    public init(states: [(device: Device, state: Tensor)]) { self.states = states }

    /// The devices with a default generator in this process: the CPU and each CUDA device.
    public static var devices: [Device] { [.cpu] + (0..<Torch.cudaDeviceCount).map { Device.cuda($0) } }

    /// The current states of `devices`' default generators.
    public static func capture(_ devices: [Device] = GeneratorStates.devices) throws -> GeneratorStates {
        GeneratorStates(states: try devices.map { ($0, try Generator.default(for: $0).state()) })
    }

    /// Sets each captured device's default generator back to its captured state.
    public func restore() throws {
        for (device, state) in states { try Generator.default(for: device).setState(state) }
    }

    /// The state captured for `device`, if any.
    public subscript(device: Device) -> Tensor? { states.first { $0.device == device }?.state }

    /// Runs `body`, then puts every default generator back as it was, whether `body` returns or throws.
    public static func preserving<T>(_ body: () throws -> T) throws -> T {
        let saved = try capture()
        let result: T
        do {
            result = try body()
        } catch {
            try? saved.restore()
            throw error
        }
        try saved.restore()
        return result
    }
}

extension Tensor {
    private static func random(_ distribution: ctorch_distribution, _ shape: [Int], _ dtype: DType, _ device: Device, _ generator: Generator?) throws -> Tensor {
        try device.ensureAvailable()
        try generator?.checkPlacement(for: device)
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
        try generator?.checkPlacement(for: device)
        return try makeTensor { out in
            withInt64Pointer(shape) {
                ctorch_randint(Int64(low), Int64(high), $0, Int32(shape.count), dtype.rawValue, device.typeCode, device.index, generator?.handle, out)
            }
        }
    }

    /// A random permutation of 0..<n (`torch.randperm`).
    public static func randperm(_ n: Int, dtype: DType = .int64, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
        try device.ensureAvailable()
        try generator?.checkPlacement(for: device)
        return try makeTensor { ctorch_randperm(Int64(n), dtype.rawValue, device.typeCode, device.index, generator?.handle, $0) }
    }

    public static func randn(like t: Tensor, generator: Generator? = nil) throws -> Tensor {
        try randn(t.shape, dtype: t.dtype, device: t.device, generator: generator)
    }

    /// Fills in place with U(low, high) (`Tensor.uniform_`).
    @discardableResult
    public func uniform_(_ low: Double = 0, _ high: Double = 1, generator: Generator? = nil) throws -> Tensor {
        try generator?.checkPlacement(for: device)
        try check(ctorch_random_(CTORCH_DIST_UNIFORM, handle, low, high, generator?.handle))
        return self
    }

    /// Fills in place with N(mean, std²) (`Tensor.normal_`).
    @discardableResult
    public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws -> Tensor {
        try generator?.checkPlacement(for: device)
        try check(ctorch_random_(CTORCH_DIST_NORMAL, handle, mean, std, generator?.handle))
        return self
    }
}
