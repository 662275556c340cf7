import SwiftTorch

/// What an optimizer step does with the learning rate and the gradient norm.
///
/// By default it does what the reference's code does, whatever its keys say:
/// - the learning rate is constant from step 0: the reference builds diffusers'
///   `get_scheduler("constant", …)`, which takes `lr_warmup_steps` and ignores it;
/// - the gradient norm is measured inside `training_step`, which Lightning runs before it
///   clears the gradients and runs the backward pass. So the norm is that of the gradients held
///   at that moment: the previous step's (none at the first step or after a resume), or within
///   an accumulation window the sum of this step's earlier micro-batches. From
///   `gradient_clip_start_step` those held gradients are scaled down to `gradient_clip_norm`;
///   the previous step's are cleared right after, so only an accumulation window's partial sums
///   are ever changed, and with one micro-batch per step nothing is.
///
/// `warmup` (`experiment.training.optimizer.apply_lr_warmup`, ours) ramps the learning rate
/// linearly over `lr_warmup_steps`; `clipping` (`experiment.training.apply_gradient_clip`,
/// ours) measures this step's whole gradient after all micro-batches (and the average across
/// ranks) and clips it from `gradient_clip_start_step`, as the keys intend.
public struct UpdateRule: Sendable {
    public var baseLearningRate: Double
    public var warmupSteps: Int
    public var warmup = false
    public var clipNorm: Double
    public var clipStartStep: Int
    public var clipping = false

    public init(settings: TrainingSettings) {
        baseLearningRate = settings.learningRate
        warmupSteps = settings.warmupSteps
        warmup = settings.applyWarmup
        clipNorm = settings.gradientClipNorm
        clipStartStep = settings.gradientClipStartStep
        clipping = settings.applyGradientClipping
    }

    public func learningRate(atStep step: Int) -> Double {
        let schedule: LearningRateSchedule = warmup ? ConstantWithWarmup(warmupSteps: warmupSteps) : ConstantSchedule()
        return schedule.learningRate(base: baseLearningRate, step: step)
    }

    /// Before micro-batch `micro`'s backward pass of optimizer step `step`: the reference's
    /// measurement (and clipping) of the held gradients, then, at the first micro-batch, the
    /// clearing of the previous step's. Returns the measured norm (nil when `clipping` measures
    /// after the step's gradients are complete instead).
    public func beforeBackward(micro: Int, step: Int, parameters: [Tensor]) throws -> Double? {
        var norm: Double?
        if !clipping {
            // Clipping the previous step's gradients (micro 0) could change nothing: they are cleared next.
            norm = try clipGradNorm(parameters, maxNorm: clipNorm, clip: micro > 0 && step >= clipStartStep).item(Double.self)
        }
        if micro == 0 { for p in parameters { try p.zeroGrad() } }
        return norm
    }

    /// After every micro-batch's backward pass (and the gradient average across ranks), before
    /// the optimizer step: with `clipping`, this step's norm, clipped from the start step.
    public func beforeOptimizerStep(step: Int, parameters: [Tensor]) throws -> Double? {
        guard clipping else { return nil }
        return try clipGradNorm(parameters, maxNorm: clipNorm, clip: step >= clipStartStep).item(Double.self)
    }
}

/// One optimizer step over `microBatches` micro-batches in the order Lightning runs it:
/// each micro-batch's loss, the update rule's measurement, the backward pass of the loss
/// divided by the micro-batch count; then `synchronize` (the average across ranks), the rule's
/// clipping, the learning rate and the optimizer step, which `apply` (given the mean loss and
/// the norm) may withhold. Gradients stay on the parameters after the step, as in the
/// reference, until the next step's first micro-batch clears them.
public func optimizerStep(_ optimizer: AdamW, rule: UpdateRule, step: Int, microBatches: Int,
                          loss: (Int) throws -> Tensor, beforeLastBackward: () throws -> Void = {},
                          synchronize: (_ lossSum: Double, _ norm: Double) throws -> (lossSum: Double, norm: Double) = { ($0, $1) },
                          apply: (_ loss: Double, _ norm: Double) throws -> Bool = { _, _ in true })
    throws -> (loss: Double, gradientNorm: Double, learningRate: Double) {
    var lossSum = 0.0, norm = 0.0
    for micro in 0..<microBatches {
        let value = try loss(micro)
        if let measured = try rule.beforeBackward(micro: micro, step: step, parameters: optimizer.parameters) { norm = measured }
        if micro == microBatches - 1 { try beforeLastBackward() }
        try (microBatches > 1 ? value / Double(microBatches) : value).backward()
        lossSum += try value.item(Double.self)
    }
    (lossSum, norm) = try synchronize(lossSum, norm)
    if let measured = try rule.beforeOptimizerStep(step: step, parameters: optimizer.parameters) { norm = measured }
    optimizer.learningRate = rule.learningRate(atStep: step)
    if try apply(lossSum / Double(microBatches), norm) { try optimizer.step() }
    return (lossSum / Double(microBatches), norm, optimizer.learningRate)
}
