import CTorchShim

/// Mixed precision, as `torch.autocast(device_type, dtype)`: inside the scope, matmuls,
/// convolutions and linears run in `dtype` (bf16 by default) while reductions and norms stay
/// in float32. Thread-local; scopes nest.
public func withAutocast<R>(_ device: Device = .cuda, dtype: DType = .bfloat16, enabled: Bool = true, _ body: () throws -> R) throws -> R {
    if enabled { try device.ensureAvailable() }
    let type = device.typeCode
    let previousEnabled = ctorch_autocast_is_enabled(type)
    let previousDType = ctorch_autocast_get_dtype(type)
    try check(ctorch_autocast_set_enabled(type, enabled))
    try check(ctorch_autocast_set_dtype(type, dtype.rawValue))
    _ = ctorch_autocast_enter()
    defer {
        _ = ctorch_autocast_exit()
        _ = ctorch_autocast_set_enabled(type, previousEnabled)
        _ = ctorch_autocast_set_dtype(type, previousDType)
    }
    return try body()
}
