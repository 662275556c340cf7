import CTorchShim

/// Mixed precision, as `torch.autocast(device_type, dtype)`: inside the scope, matmuls,
/// convolutions and linears run in `dtype` (bf16 by default) while reductions and norms stay
/// in float32. Thread-local; scopes nest.
public func withAutocast<R>(_ device: Device = .cuda, dtype: DType = .bfloat16, enabled: Bool = true, _ body: () throws -> R) throws -> R {
    if enabled { try device.ensureAvailable() }
    let type = device.typeCode
    var previousEnabled = false
    var previousDType: Int32 = 0
    var depth: Int32 = 0
    try check(ctorch_autocast_is_enabled(type, &previousEnabled))
    try check(ctorch_autocast_get_dtype(type, &previousDType))
    try check(ctorch_autocast_set_enabled(type, enabled))
    try check(ctorch_autocast_set_dtype(type, dtype.rawValue))
    try check(ctorch_autocast_enter(&depth))
    // Restoring can only fail for a device the calls above already accepted, so there is
    // nothing left to report here (and a defer cannot throw).
    defer {
        _ = ctorch_autocast_exit(&depth)
        _ = ctorch_autocast_set_enabled(type, previousEnabled)
        _ = ctorch_autocast_set_dtype(type, previousDType)
    }
    return try body()
}
