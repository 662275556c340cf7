import CTorchShim

/// Creation: the same names and defaults as PyTorch (float32, CPU).
extension Tensor {
    private static func filled(_ op: ctorch_fill_op, _ shape: [Int], _ dtype: DType, _ device: Device) throws -> Tensor {
        try device.ensureAvailable()
        return try makeTensor { out in
            withInt64Pointer(shape) { ctorch_filled(op, $0, Int32(shape.count), dtype.rawValue, device.typeCode, device.index, out) }
        }
    }

    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try filled(CTORCH_FILL_EMPTY, shape, dtype, device)
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try filled(CTORCH_FILL_ZEROS, shape, dtype, device)
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try filled(CTORCH_FILL_ONES, shape, dtype, device)
    }

    public static func full(_ shape: [Int], _ value: Scalar, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try device.ensureAvailable()
        return try makeTensor { out in
            withInt64Pointer(shape) { ctorch_full($0, Int32(shape.count), value.c, dtype.rawValue, device.typeCode, device.index, out) }
        }
    }

    /// Values from `start` up to (not including) `end`; int64 unless a dtype is given.
    public static func arange(_ start: Scalar = 0, _ end: Scalar, step: Scalar = 1, dtype: DType? = nil, device: Device = .cpu) throws -> Tensor {
        try device.ensureAvailable()
        let integral = [start, end, step].allSatisfy { if case .double = $0 { return false } else { return true } }
        let resolved = dtype ?? (integral ? .int64 : .float32)
        return try makeTensor { ctorch_arange(start.c, end.c, step.c, resolved.rawValue, device.typeCode, device.index, $0) }
    }

    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try device.ensureAvailable()
        return try makeTensor { ctorch_linspace(start, end, Int64(steps), dtype.rawValue, device.typeCode, device.index, $0) }
    }

    public static func zeros(like t: Tensor) throws -> Tensor { try zeros(t.shape, dtype: t.dtype, device: t.device) }
    public static func ones(like t: Tensor) throws -> Tensor { try ones(t.shape, dtype: t.dtype, device: t.device) }
    public static func full(like t: Tensor, _ value: Scalar) throws -> Tensor { try full(t.shape, value, dtype: t.dtype, device: t.device) }
}
