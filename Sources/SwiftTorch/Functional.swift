import CTorchShim

/// Linear algebra and neural-network functions (`torch` / `torch.nn.functional`).
extension Tensor {
    public func matmul(_ other: Tensor) throws -> Tensor {
        try makeTensor { ctorch_matmul(handle, other.handle, $0) }
    }

    /// x·Wᵀ + b (`F.linear`).
    public func linear(_ weight: Tensor, _ bias: Tensor? = nil) throws -> Tensor {
        try makeTensor { ctorch_linear(handle, weight.handle, bias?.handle, $0) }
    }

    public static func einsum(_ equation: String, _ operands: [Tensor]) throws -> Tensor {
        try makeTensor { out in withHandles(operands) { ctorch_einsum(equation, $0, Int32(operands.count), out) } }
    }

    /// Singular values of a matrix, descending (`torch.linalg.svdvals`).
    public func singularValues() throws -> Tensor {
        try makeTensor { ctorch_linalg_svdvals(handle, $0) }
    }

    public func softmax(dim: Int, dtype: DType? = nil) throws -> Tensor {
        try makeTensor { ctorch_softmax(handle, Int64(dim), dtype.map { Int32($0.rawValue) } ?? -1, false, $0) }
    }

    public func logSoftmax(dim: Int, dtype: DType? = nil) throws -> Tensor {
        try makeTensor { ctorch_softmax(handle, Int64(dim), dtype.map { Int32($0.rawValue) } ?? -1, true, $0) }
    }

    /// `F.layer_norm` over the trailing `normalizedShape` dimensions.
    public func layerNorm(_ normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) throws -> Tensor {
        try makeTensor { out in
            withInt64Pointer(normalizedShape) { ctorch_layer_norm(handle, $0, Int32(normalizedShape.count), weight?.handle, bias?.handle, eps, out) }
        }
    }

    /// `F.rms_norm`; `eps: nil` uses the dtype's machine epsilon, as PyTorch does.
    public func rmsNorm(_ normalizedShape: [Int], weight: Tensor? = nil, eps: Double? = nil) throws -> Tensor {
        try makeTensor { out in
            withInt64Pointer(normalizedShape) { ctorch_rms_norm(handle, $0, Int32(normalizedShape.count), weight?.handle, eps != nil, eps ?? 0, out) }
        }
    }

    public func groupNorm(groups: Int, weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) throws -> Tensor {
        try makeTensor { ctorch_group_norm(handle, Int64(groups), weight?.handle, bias?.handle, eps, $0) }
    }

    /// `F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale)`.
    /// A boolean mask marks positions that may attend; a float mask is added to the scores.
    public static func scaledDotProductAttention(
        query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, dropout: Double = 0,
        isCausal: Bool = false, scale: Double? = nil, enableGQA: Bool = false
    ) throws -> Tensor {
        try makeTensor {
            ctorch_sdpa(query.handle, key.handle, value.handle, mask?.handle, dropout, isCausal,
                        scale != nil, scale ?? 0, enableGQA, $0)
        }
    }

    /// N-d convolution (`F.conv1d/2d/3d`); stride, padding, dilation per spatial dimension.
    public func conv(_ weight: Tensor, bias: Tensor? = nil, stride: [Int], padding: [Int], dilation: [Int], groups: Int = 1) throws -> Tensor {
        let spatial = weight.rank - 2
        guard spatial >= 1, stride.count == spatial, padding.count == spatial, dilation.count == spatial else {
            throw TorchError.invalidArgument("conv: weight of shape \(weight.shape) needs \(spatial) stride, padding and dilation values")
        }
        return try makeTensor { out in
            withInt64Pointer(stride) { s in
                withInt64Pointer(padding) { p in
                    withInt64Pointer(dilation) { d in
                        ctorch_conv(handle, weight.handle, bias?.handle, Int32(spatial), s, p, d, Int64(groups), out)
                    }
                }
            }
        }
    }

    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) throws -> Tensor {
        try conv(weight, bias: bias, stride: [stride, stride], padding: [padding, padding], dilation: [dilation, dilation], groups: groups)
    }

    public func conv3d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) throws -> Tensor {
        try conv(weight, bias: bias, stride: [stride, stride, stride], padding: [padding, padding, padding],
                 dilation: [dilation, dilation, dilation], groups: groups)
    }

    public enum InterpolationMode: String, CaseIterable, Sendable {
        case nearest, nearestExact = "nearest-exact", linear, bilinear, bicubic, trilinear, area

        var code: ctorch_interpolate_mode {
            switch self {
            case .nearest: return CTORCH_NEAREST
            case .nearestExact: return CTORCH_NEAREST_EXACT
            case .linear: return CTORCH_LINEAR
            case .bilinear: return CTORCH_BILINEAR
            case .bicubic: return CTORCH_BICUBIC
            case .trilinear: return CTORCH_TRILINEAR
            case .area: return CTORCH_AREA
            }
        }
    }

    /// `F.interpolate(x, size=...)`.
    public func interpolate(size: [Int], mode: InterpolationMode = .nearest, alignCorners: Bool? = nil) throws -> Tensor {
        try resample(size, scales: nil, mode, alignCorners)
    }

    /// `F.interpolate(x, scale_factor=...)`: output size floor(in·scale), and the kernels use
    /// the given scale (not out/in) to place samples, exactly as PyTorch does.
    public func interpolate(scaleFactor: [Double], mode: InterpolationMode = .nearest, alignCorners: Bool? = nil) throws -> Tensor {
        let spatial = Array(shape.dropFirst(2))
        guard spatial.count == scaleFactor.count else {
            throw TorchError.invalidArgument("interpolate: \(scaleFactor.count) scale factors for \(spatial.count) spatial dimensions")
        }
        let size = zip(spatial, scaleFactor).map { Int((Double($0) * $1).rounded(.down)) }
        // Area mode is adaptive pooling, which takes no scales.
        return try resample(size, scales: mode == .area ? nil : scaleFactor, mode, alignCorners)
    }

    private func resample(_ size: [Int], scales: [Double]?, _ mode: InterpolationMode, _ alignCorners: Bool?) throws -> Tensor {
        let corners: Int32 = alignCorners.map { $0 ? 1 : 0 } ?? -1
        return try makeTensor { out in
            withInt64Pointer(size) { s in
                if let scales {
                    return scales.withUnsafeBufferPointer { ctorch_interpolate(handle, mode.code, s, Int32(size.count), $0.baseAddress, corners, out) }
                }
                return ctorch_interpolate(handle, mode.code, s, Int32(size.count), nil, corners, out)
            }
        }
    }

    public func dropout(p: Double, training: Bool) throws -> Tensor {
        try makeTensor { ctorch_dropout(handle, p, training, $0) }
    }

    /// Rows of `weight` picked by integer `indices` (`F.embedding`).
    public static func embedding(_ weight: Tensor, indices: Tensor) throws -> Tensor {
        try makeTensor { ctorch_embedding(weight.handle, indices.handle, $0) }
    }

    /// Mean squared error over every element (`F.mse_loss`).
    public func mseLoss(_ target: Tensor) throws -> Tensor {
        try (self - target).square().mean()
    }

    // MARK: dtype and device

    public func to(_ dtype: DType) throws -> Tensor {
        try makeTensor { ctorch_to(handle, dtype.rawValue, -1, 0, false, $0) }
    }

    public func to(_ device: Device) throws -> Tensor {
        try device.ensureAvailable()
        return try makeTensor { ctorch_to(handle, -1, device.typeCode, device.index, false, $0) }
    }

    public func to(_ device: Device, _ dtype: DType) throws -> Tensor {
        try device.ensureAvailable()
        return try makeTensor { ctorch_to(handle, dtype.rawValue, device.typeCode, device.index, false, $0) }
    }
}
