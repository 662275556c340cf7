/// An argument Python itself would refuse (a NumPy seed out of range, an empty range), with
/// the message said once.
public struct PythonCompatibleError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
