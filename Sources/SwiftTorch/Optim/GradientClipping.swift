/// Global-norm gradient clipping, as the reference trainer does it: the total norm is the
/// p-norm of the per-parameter p-norms, and every gradient is scaled by
/// min(1, max_norm / (total + 1e-6)).
///
/// With `clip: false` only the norm is measured (the reference measures before
/// `gradient_clip_start_step` and clips after). Returns the total norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Double, normType: Double = 2, clip: Bool = true) throws -> Tensor {
    let grads = parameters.compactMap { $0.grad }
    guard let first = grads.first else { return try Tensor.zeros([]) }
    return try withNoGrad {
        let norms = try grads.map { try $0.detach().norm(normType).to(first.device) }
        let total = normType == .infinity
            ? try Tensor.stack(norms).max()
            : try Tensor.stack(norms).norm(normType)
        if clip {
            let coefficient = try maxNorm / (total + 1e-6)
            let clamped = try coefficient.clamp(max: 1.0)
            for g in grads { try g.mul_(clamped.to(g.device)) }
        }
        return total
    }
}
