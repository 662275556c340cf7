import CTorchShim

/// Where a tensor lives. CUDA devices are chosen at run time; asking for one this libtorch
/// or machine cannot provide throws `TorchError.deviceUnavailable` with how to fix it.
public enum Device: Equatable, Hashable, CustomStringConvertible, Sendable {
    case cpu
    case cuda(Int)
    /// Shapes and dtypes without storage: shows where code would put its tensors (e.g. that a
    /// sampler follows the requested device) on a machine without that device.
    case meta

    public static let cuda = Device.cuda(0)

    var typeCode: Int32 {
        switch self {
        case .cpu: return Int32(CTORCH_CPU)
        case .cuda: return Int32(CTORCH_CUDA)
        case .meta: return Int32(CTORCH_META)
        }
    }

    var index: Int32 {
        switch self {
        case .cpu: return 0
        case .cuda(let i): return Int32(i)
        case .meta: return -1
        }
    }

    /// The device type alone, as libtorch names it in messages (`cpu`, `cuda`, `meta`).
    var typeName: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda: return "cuda"
        case .meta: return "meta"
        }
    }

    init(typeCode: Int32, index: Int32) {
        switch typeCode {
        case Int32(CTORCH_CUDA): self = .cuda(Int(index))
        case Int32(CTORCH_META): self = .meta
        default: self = .cpu
        }
    }

    /// Parses PyTorch's spellings: `cpu`, `cuda`, `cuda:1`.
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        if lower == "cpu" { self = .cpu; return }
        if lower == "cuda" { self = .cuda(0); return }
        if lower.hasPrefix("cuda:"), let i = Int(lower.dropFirst(5)), i >= 0 { self = .cuda(i); return }
        throw TorchError.invalidArgument("unknown device '\(text)': use cpu, cuda or cuda:N")
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let i): return "cuda:\(i)"
        case .meta: return "meta"
        }
    }

    /// Throws unless this device can hold tensors in this process.
    public func ensureAvailable() throws {
        guard case .cuda(let i) = self else { return }
        let count = Torch.cudaDeviceCount
        if i >= count {
            let seen = count == 0 ? "no CUDA device" : "only \(count) CUDA device(s)"
            throw TorchError.deviceUnavailable(
                "\(self) requested, but libtorch \(Torch.version) sees \(seen). "
                + "Use --device cpu, or build against a CUDA PyTorch with LIBTORCH=/path/to/torch.")
        }
    }
}

/// Process-wide facts and knobs of the linked libtorch.
public enum Torch {
    /// The libtorch version the shim was compiled against, e.g. "2.13.0".
    public static var version: String { String(cString: ctorch_torch_version()) }
    public static var cudaDeviceCount: Int { Int(ctorch_cuda_device_count()) }  // total: 0 when CUDA is unusable
    public static var isCUDAAvailable: Bool { cudaDeviceCount > 0 }
    /// Whether this libtorch is a CUDA build, whether or not a GPU is visible.
    public static var isCUDABuilt: Bool { ctorch_cuda_is_built() != 0 }

    /// Intra-op threads libtorch uses on CPU (torch.get_num_threads).
    public static var numThreads: Int {
        get throws {
            var n: Int32 = 0
            try check(ctorch_get_num_threads(&n))
            return Int(n)
        }
    }

    /// Sets the intra-op threads (torch.set_num_threads); libtorch refuses n ≤ 0, and that
    /// arrives here as a thrown error, not a crash. A method rather than a setter because
    /// property setters cannot throw.
    public static func setNumThreads(_ n: Int) throws {
        guard let count = Int32(exactly: n) else {
            throw TorchError.invalidArgument("\(n) threads is out of range: give a positive thread count")
        }
        try check(ctorch_set_num_threads(count))
    }

    /// How float32 matrix products may round (`torch.set_float32_matmul_precision`): `.high`
    /// lets CUDA use TF32 tensor cores, `.medium` bf16; `.highest`, libtorch's default, is plain
    /// float32.
    public enum MatmulPrecision: String, Sendable, CaseIterable { case highest, high, medium }

    public static var float32MatmulPrecision: MatmulPrecision {
        get throws {
            var code: Int32 = 0
            try check(ctorch_get_float32_matmul_precision(&code))
            return MatmulPrecision.allCases[Int(code)]
        }
    }

    public static func setFloat32MatmulPrecision(_ precision: MatmulPrecision) throws {
        try check(ctorch_set_float32_matmul_precision(precision.rawValue))
    }

    /// Waits for queued work on a CUDA device (for timing).
    public static func synchronize(_ device: Device) throws {
        if case .cuda(let i) = device { try check(ctorch_cuda_synchronize(Int32(i))) }
    }
}
