/// The standard layers, with PyTorch's parameter names, shapes and default initialisation.

/// y = x·Wᵀ + b (`nn.Linear`): `weight [out, in]`, `bias [out]`.
public final class Linear: Module, Layer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32, device: Device = .cpu) throws {
        weight = try Tensor.empty([outFeatures, inFeatures], dtype: dtype, device: device)
        self.bias = bias ? try Tensor.empty([outFeatures], dtype: dtype, device: device) : nil
        super.init()
        try Init.pytorchDefault_(weight: weight, bias: self.bias)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.linear(weight, bias) }
}

/// `nn.LayerNorm`; without affine parameters when `elementwiseAffine` is false.
public final class LayerNorm: Module, Layer {
    @Parameter public var weight: Tensor?
    @Parameter public var bias: Tensor?
    public let normalizedShape: [Int]
    public let eps: Double

    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                dtype: DType = .float32, device: Device = .cpu) throws {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? try Tensor.ones(normalizedShape, dtype: dtype, device: device) : nil
        self.bias = elementwiseAffine && bias ? try Tensor.zeros(normalizedShape, dtype: dtype, device: device) : nil
        super.init()
    }

    public convenience init(_ dim: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) throws {
        try self.init([dim], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.layerNorm(normalizedShape, weight: weight, bias: bias, eps: eps)
    }
}

/// `nn.Conv2d` with square kernels: `weight [out, in/groups, k, k]`, `bias [out]`.
public final class Conv2d: Module, Layer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?
    public let stride: Int, padding: Int, dilation: Int, groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, dtype: DType = .float32, device: Device = .cpu) throws {
        guard inChannels % groups == 0, outChannels % groups == 0 else {
            throw TorchError.invalidArgument("Conv2d: channels \(inChannels)→\(outChannels) must be divisible by groups \(groups)")
        }
        self.stride = stride; self.padding = padding; self.dilation = dilation; self.groups = groups
        weight = try Tensor.empty([outChannels, inChannels / groups, kernelSize, kernelSize], dtype: dtype, device: device)
        self.bias = bias ? try Tensor.empty([outChannels], dtype: dtype, device: device) : nil
        super.init()
        try Init.pytorchDefault_(weight: weight, bias: self.bias)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// `nn.Embedding`: rows of `weight [count, dim]`, initialised N(0, 1).
public final class Embedding: Module {
    @Parameter public var weight: Tensor

    public init(_ count: Int, _ dim: Int, dtype: DType = .float32, device: Device = .cpu) throws {
        weight = try Tensor.empty([count, dim], dtype: dtype, device: device)
        super.init()
        try Init.normal_(weight)
    }

    public func callAsFunction(_ indices: Tensor) throws -> Tensor { try Tensor.embedding(weight, indices: indices) }
}

/// `nn.Dropout`: active only in training mode.
public final class Dropout: Module, Layer {
    public let p: Double
    public init(_ p: Double = 0.5) { self.p = p }
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        isTraining && p > 0 ? try x.dropout(p: p, training: true) : x
    }
}

public final class SiLU: Module, Layer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.silu() }
}

public final class GELU: Module, Layer {
    public let approximate: String
    public init(approximate: String = "none") { self.approximate = approximate }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.gelu(approximate: approximate) }
}

public final class ReLU: Module, Layer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.relu() }
}

public final class Tanh: Module, Layer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.tanh() }
}

public final class Identity: Module, Layer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { x }
}

/// `nn.Sequential`: layers applied in order, named "0", "1", … in the state dict.
public final class Sequential: Module, Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public override var namedChildren: [(String, Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element as Module) }
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try layers.reduce(x) { try $1($0) }
    }
}
