/// Why a training run cannot start or go on, in one line: a run folder in use, a step that
/// is not finite.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
