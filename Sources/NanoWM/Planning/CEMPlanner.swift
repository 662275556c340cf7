import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// The cross-entropy method exactly as upstream's `CEMPlanner.plan`: per iteration, draw
/// `numSamples` sequences μ + σ·ε (ε from the global CPU generator, as upstream draws it), make
/// sample 0 the mean itself, clamp to the action bounds if any, roll every sample out (in
/// batches of `rolloutBatchSize`), keep the `topK` lowest losses, and refit μ to their mean and
/// σ to their unbiased standard deviation, floored at `sigmaMin`. Returns μ, not the best sample.
public struct CEMPlanner {
    public struct Settings: Sendable, Equatable {
        public var numSamples = 100
        public var topK = 10
        public var iterations = 30          // opt_steps
        public var varianceScale = 1.0      // var_scale
        public var sigmaMin = 1e-3
        public var actionLow: Double?
        public var actionHigh: Double?
        /// Samples rolled out at once (nil: all).
        public var rolloutBatchSize: Int?
        public init() {}

        public func validate() throws {
            func require(_ ok: Bool, _ message: String) throws { if !ok { throw ConfigError(.invalidValue, message) } }
            try require(numSamples >= 2, "planning.cem.num_samples must be at least 2 (got \(numSamples))")
            try require(topK >= 2 && topK <= numSamples, "planning.cem.topk must lie in [2, num_samples = \(numSamples)] (got \(topK)); the unbiased std needs two elites")
            try require(iterations >= 1, "planning.cem.opt_steps must be at least 1 (got \(iterations))")
            try require(varianceScale.isFinite && varianceScale > 0, "planning.cem.var_scale must be a positive number (got \(varianceScale))")
            try require(sigmaMin.isFinite && sigmaMin >= 0, "planning.cem.sigma_min must be ≥ 0 (got \(sigmaMin))")
            if let low = actionLow, let high = actionHigh {
                try require(low < high, "planning.cem.action_low \(low) must be below action_high \(high)")
            }
            try require((rolloutBatchSize ?? 1) >= 1 || rolloutBatchSize == nil,
                        "planning.cem.rollout_batch_size must be at least 1 or null (got \(rolloutBatchSize ?? 0))")
        }
    }

    /// What one `plan` call found.
    public struct Plan {
        /// The final mean `[H, A]` (normalised model actions).
        public var actions: Tensor
        /// Per iteration, the best sample's loss.
        public var losses: [Double]
        public var finalLoss: Double { losses.last ?? .nan }
    }

    public let settings: Settings
    public let horizon: Int
    public let actionDimension: Int
    /// Losses `[N]` of action samples `[N, H, A]` (on the rollout device).
    public let score: (Tensor) throws -> Tensor

    public init(settings: Settings, horizon: Int, actionDimension: Int, score: @escaping (Tensor) throws -> Tensor) throws {
        try settings.validate()
        guard horizon >= 1 else { throw ConfigError(.invalidValue, "planning.horizon must be at least 1 (got \(horizon))") }
        (self.settings, self.horizon, self.actionDimension, self.score) = (settings, horizon, actionDimension, score)
    }

    /// Optimises from μ = `warmStart` followed by zeros (or all zeros), σ = var_scale.
    /// `device` is where samples are rolled out; draws always come from the CPU generator.
    public func plan(warmStart: Tensor? = nil, device: Device = .cpu, iterationDone: ((Int, Double) -> Void)? = nil) throws -> Plan {
        var mean = try initialMean(warmStart).to(device)
        var sigma = try Tensor.full([horizon, actionDimension], .double(settings.varianceScale), dtype: .float32, device: device)
        var losses: [Double] = []
        for iteration in 0..<settings.iterations {
            let noise = try Tensor.randn([settings.numSamples, horizon, actionDimension]).to(device)
            var samples = try noise * sigma + mean
            samples = try Tensor.cat([mean.unsqueeze(0), samples.narrow(dim: 0, start: 1, length: settings.numSamples - 1)], dim: 0)
            if settings.actionLow != nil || settings.actionHigh != nil {
                samples = try samples.clamp(min: settings.actionLow ?? -.infinity, max: settings.actionHigh ?? .infinity)
            }
            let loss = try scoreInBatches(samples)
            let order = try Self.ascendingOrder(loss)
            let elites = try samples.indexSelect(dim: 0, index: try Tensor(order.prefix(settings.topK).map { Int64($0) }, shape: [settings.topK]).to(device))
            let best = try loss.toArray(Float.self)[order[0]]
            losses.append(Double(best))
            mean = try elites.mean(dim: 0)
            sigma = try elites.std(dims: [0]).clamp(min: settings.sigmaMin)
            iterationDone?(iteration + 1, Double(best))
        }
        return Plan(actions: mean, losses: losses)
    }

    private func initialMean(_ warmStart: Tensor?) throws -> Tensor {
        guard let warmStart else { return try Tensor.zeros([horizon, actionDimension]) }
        let given = try warmStart.to(.cpu).to(.float32)
        let kept = Swift.min(given.shape[0], horizon)
        let head = try given.narrow(dim: 0, start: 0, length: kept)
        guard kept < horizon else { return head }
        return try Tensor.cat([head, try Tensor.zeros([horizon - kept, actionDimension])], dim: 0)
    }

    private func scoreInBatches(_ samples: Tensor) throws -> Tensor {
        let total = samples.shape[0]
        let batch = Swift.min(settings.rolloutBatchSize ?? total, total)
        var parts: [Tensor] = []
        var start = 0
        while start < total {
            let count = Swift.min(batch, total - start)
            parts.append(try score(try samples.narrow(dim: 0, start: start, length: count)))
            start += count
        }
        return try parts.count == 1 ? parts[0] : Tensor.cat(parts, dim: 0)
    }

    /// Indices of `loss` from lowest to highest; NaN losses last, ties by index.
    static func ascendingOrder(_ loss: Tensor) throws -> [Int] {
        let values = try loss.to(.cpu).toArray(Float.self)
        return values.indices.sorted { a, b in
            let (x, y) = (values[a], values[b])
            if x.isNaN != y.isNaN { return y.isNaN }
            return x == y || (x.isNaN && y.isNaN) ? a < b : x < y
        }
    }
}
