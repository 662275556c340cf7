import Foundation

/// `torch.optim.AdamW` with one parameter group, identical on CPU to PyTorch's
/// single-tensor path: decoupled weight decay applied to the parameter before the moment
/// updates, bias corrections in double precision, the same in-place ops in the same order
/// (so results agree bit for bit).
public final class AdamW {
    /// Per-parameter state, as PyTorch's `state[p]`: step count and the two moments.
    public struct State {
        public var step: Int
        public var expAvg: Tensor
        public var expAvgSq: Tensor

        public init(step: Int, expAvg: Tensor, expAvgSq: Tensor) {
            self.step = step
            self.expAvg = expAvg
            self.expAvgSq = expAvgSq
        }
    }

    public let parameters: [Tensor]
    public var learningRate: Double
    public var betas: (Double, Double)
    public var eps: Double
    public var weightDecay: Double
    /// `state[i]` belongs to `parameters[i]`; nil until that parameter first had a gradient.
    public private(set) var state: [State?]

    public init(_ parameters: [Tensor], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 1e-2) throws {
        guard learningRate >= 0, eps >= 0, weightDecay >= 0, (0..<1).contains(betas.0), (0..<1).contains(betas.1) else {
            throw TorchError.invalidArgument("AdamW: invalid hyper-parameters lr=\(learningRate) betas=\(betas) eps=\(eps) weight_decay=\(weightDecay)")
        }
        self.parameters = parameters
        self.learningRate = learningRate
        self.betas = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.state = Array(repeating: nil, count: parameters.count)
    }

    /// One update of every parameter that has a gradient.
    public func step() throws {
        try withNoGrad {
            for (i, param) in parameters.enumerated() {
                guard let grad = param.grad else { continue }
                try update(i, param, grad)
            }
        }
    }

    private func update(_ i: Int, _ param: Tensor, _ grad: Tensor) throws {
        var s = try state[i] ?? State(step: 0, expAvg: Tensor.zeros(like: param), expAvgSq: Tensor.zeros(like: param))
        s.step += 1
        let (beta1, beta2) = betas
        let lr = learningRate
        if weightDecay != 0 { try param.mul_(.double(1 - lr * weightDecay)) }
        try s.expAvg.lerp_(grad, weight: 1 - beta1)
        try s.expAvgSq.mul_(.double(beta2)).addcmul_(grad, grad, value: 1 - beta2)
        let step = Double(s.step)
        let biasCorrection1 = 1 - pow(beta1, step)
        let biasCorrection2 = 1 - pow(beta2, step)
        let stepSize = lr / biasCorrection1
        let biasCorrection2Sqrt = pow(biasCorrection2, 0.5)
        let denom = try (s.expAvgSq.sqrt() / biasCorrection2Sqrt).add_(.double(eps))
        try param.addcdiv_(s.expAvg, denom, value: -stepSize)
        state[i] = s
    }

    /// Drops every gradient (PyTorch's default `zero_grad(set_to_none=True)`).
    public func zeroGrad() throws {
        for p in parameters { try p.zeroGrad() }
    }

    /// Replaces the state of parameter `i` (used when resuming from a checkpoint).
    public func setState(_ newState: State?, forParameter i: Int) throws {
        guard parameters.indices.contains(i) else {
            throw TorchError.invalidArgument("AdamW has \(parameters.count) parameters, no index \(i)")
        }
        state[i] = newState
    }
}
