import Foundation

/// A learning-rate multiplier per optimizer step, applied as `base_lr · factor(step)`
/// (PyTorch's `LambdaLR`). The shapes are those of diffusers' `get_scheduler`, which the
/// reference trainer uses.
public protocol LearningRateSchedule {
    func factor(atStep step: Int) -> Double
}

extension LearningRateSchedule {
    public func learningRate(base: Double, step: Int) -> Double { base * factor(atStep: step) }
}

/// The same rate throughout.
public struct ConstantSchedule: LearningRateSchedule {
    public init() {}
    public func factor(atStep step: Int) -> Double { 1 }
}

/// Linear ramp from 0 over `warmupSteps`, then constant.
public struct ConstantWithWarmup: LearningRateSchedule {
    public let warmupSteps: Int
    public init(warmupSteps: Int) { self.warmupSteps = warmupSteps }
    public func factor(atStep step: Int) -> Double {
        step < warmupSteps ? Double(step) / Double(Swift.max(1, warmupSteps)) : 1
    }
}

/// Linear warmup, then a cosine from 1 down to 0 at `totalSteps` (`cycles` half-waves of
/// 0.5 by default), never below 0.
public struct CosineWithWarmup: LearningRateSchedule {
    public let warmupSteps: Int
    public let totalSteps: Int
    public let cycles: Double

    public init(warmupSteps: Int, totalSteps: Int, cycles: Double = 0.5) {
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.cycles = cycles
    }

    public func factor(atStep step: Int) -> Double {
        if step < warmupSteps { return Double(step) / Double(Swift.max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(Swift.max(1, totalSteps - warmupSteps))
        return Swift.max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress)))
    }
}
