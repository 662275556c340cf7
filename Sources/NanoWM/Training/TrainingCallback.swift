/// What runs alongside `Trainer.fit`, as a Lightning callback does: after every optimizer step
/// (on every rank), and at every validation (on rank 0, where the metrics it returns are
/// logged). A trainer holds a list of them; each part of a run adds its own.
public protocol TrainingCallback: AnyObject {
    func stepEnded(_ step: Int, metrics: Trainer.StepMetrics) throws
    func validated(at step: Int) throws -> [String: Double]
}

extension TrainingCallback {
    public func stepEnded(_ step: Int, metrics: Trainer.StepMetrics) throws {}
    public func validated(at step: Int) throws -> [String: Double] { [:] }
}

/// A callback made of closures, for what fits in one.
public final class StepCallback: TrainingCallback {
    private let step: (Int, Trainer.StepMetrics) throws -> Void
    private let validation: (Int) throws -> [String: Double]

    public init(afterStep step: @escaping (Int, Trainer.StepMetrics) throws -> Void = { _, _ in },
                atValidation validation: @escaping (Int) throws -> [String: Double] = { _ in [:] }) {
        (self.step, self.validation) = (step, validation)
    }

    public func stepEnded(_ step: Int, metrics: Trainer.StepMetrics) throws { try self.step(step, metrics) }
    public func validated(at step: Int) throws -> [String: Double] { try validation(step) }
}
