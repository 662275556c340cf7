/// Failures of a multi-process job, each one line that names the rank and what it was doing.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// The launcher's environment is incomplete or malformed.
    case badLaunch(String)
    /// The rendezvous or process group could not be set up.
    case rendezvous(String)
    /// A collective failed: a peer died, hung past the timeout, or the network broke.
    case collective(String)

    public var description: String {
        switch self {
        case .badLaunch(let m), .rendezvous(let m), .collective(let m): return m
        }
    }
}
