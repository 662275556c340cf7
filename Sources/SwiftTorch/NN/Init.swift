import Foundation

/// Weight initialisers, `torch.nn.init`. Each draws from the global generator (or the one
/// given) in the same order and with the same bounds as PyTorch, so a seeded model starts
/// from PyTorch's exact numbers.
public enum Init {
    /// (fan_in, fan_out) as `nn.init._calculate_fan_in_and_fan_out`.
    public static func fans(_ t: Tensor) throws -> (fanIn: Int, fanOut: Int) {
        let shape = t.shape
        guard shape.count >= 2 else {
            throw TorchError.invalidArgument("fan in and fan out need a tensor of 2 or more dimensions, got shape \(shape)")
        }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public static func uniform_(_ t: Tensor, _ low: Double, _ high: Double, generator: Generator? = nil) throws {
        try withNoGrad { _ = try t.uniform_(low, high, generator: generator) }
    }

    public static func normal_(_ t: Tensor, mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws {
        try withNoGrad { _ = try t.normal_(mean: mean, std: std, generator: generator) }
    }

    public static func zeros_(_ t: Tensor) throws { try withNoGrad { _ = try t.zero_() } }

    public static func constant_(_ t: Tensor, _ value: Double) throws {
        try withNoGrad { _ = try t.fill_(.double(value)) }
    }

    /// U(−a, a) with a = gain·√(6 / (fan_in + fan_out)).
    public static func xavierUniform_(_ t: Tensor, gain: Double = 1, generator: Generator? = nil) throws {
        let (fanIn, fanOut) = try fans(t)
        let std = gain * Foundation.sqrt(2.0 / Double(fanIn + fanOut))
        let a = Foundation.sqrt(3.0) * std
        try uniform_(t, -a, a, generator: generator)
    }

    /// He-uniform for a leaky ReLU of slope `a`, fan-in mode (PyTorch's default for Linear/Conv).
    public static func kaimingUniform_(_ t: Tensor, a: Double = 0, generator: Generator? = nil) throws {
        let (fanIn, _) = try fans(t)
        let gain = Foundation.sqrt(2.0 / (1 + Foundation.pow(a, 2)))
        let std = gain / Foundation.sqrt(Double(fanIn))
        let bound = Foundation.sqrt(3.0) * std
        try uniform_(t, -bound, bound, generator: generator)
    }

    /// `nn.Linear` / `nn.ConvNd`'s `reset_parameters`: kaiming-uniform(√5) weight, then a
    /// bias uniform in ±1/√fan_in.
    public static func pytorchDefault_(weight: Tensor, bias: Tensor?, generator: Generator? = nil) throws {
        try kaimingUniform_(weight, a: Foundation.sqrt(5.0), generator: generator)
        if let bias {
            let (fanIn, _) = try fans(weight)
            let bound = fanIn > 0 ? 1 / Foundation.sqrt(Double(fanIn)) : 0
            try uniform_(bias, -bound, bound, generator: generator)
        }
    }
}
