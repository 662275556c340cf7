/// A file that cannot be read or written as a checkpoint. Its description is one line that
/// names the file and what is wrong with it, fit for a command-line error.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public var description: String { "\(path): \(message)" }
}
