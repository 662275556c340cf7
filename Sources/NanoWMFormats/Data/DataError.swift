/// A file or dataset that cannot be read as asked, in one line that names it.
public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
