import CTorchShim

/// Reverse-mode differentiation, as in PyTorch: mark leaves with `requiresGrad`, call
/// `backward()` on a scalar, read `.grad`.
extension Tensor {
    public var requiresGrad: Bool { metadata(false) { ctorch_requires_grad(handle, $0) } }

    /// Marks (or unmarks) this tensor as a leaf whose gradient is accumulated.
    @discardableResult
    public func requiresGrad_(_ flag: Bool = true) throws -> Tensor {
        try check(ctorch_set_requires_grad(handle, flag))
        return self
    }

    /// Accumulated gradient, or nil before any backward pass reached this tensor.
    public var grad: Tensor? {
        var out: OpaquePointer?
        requireMetadata(ctorch_grad(handle, &out))
        return out.map { Tensor(owning: $0) }
    }

    /// Replaces the gradient (nil drops it, as `zero_grad(set_to_none=True)`).
    public func setGrad(_ gradient: Tensor?) throws {
        try check(ctorch_set_grad(handle, gradient?.handle))
    }

    /// Drops the gradient, PyTorch's default `zero_grad`.
    public func zeroGrad() throws { try setGrad(nil) }

    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws {
        try check(ctorch_backward(handle, gradient?.handle, retainGraph, createGraph))
    }

    /// The same values cut from the autograd graph (shares storage).
    public func detach() throws -> Tensor { try makeTensor { ctorch_detach(handle, $0) } }

    @discardableResult
    public func detach_() throws -> Tensor { try check(ctorch_detach_(handle)); return self }
}

/// Whether operations on this thread currently record autograd history.
/// Grad mode is one thread-local flag in libtorch: reading or writing it cannot fail, so
/// a reported failure is a broken shim and stops the process with its message.
public var isGradEnabled: Bool { metadata(false) { ctorch_is_grad_enabled($0) } }

/// Runs `body` with gradient recording off on this thread (`torch.no_grad()`), then restores
/// the previous mode, even when `body` throws.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try withGradMode(false, body)
}

/// Runs `body` with gradient recording set to `enabled` (`torch.set_grad_enabled`).
public func withGradMode<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let previous = isGradEnabled
    requireMetadata(ctorch_set_grad_enabled(enabled))
    defer { requireMetadata(ctorch_set_grad_enabled(previous)) }
    return try body()
}
