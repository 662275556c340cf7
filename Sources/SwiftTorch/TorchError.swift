import CTorchShim
import Foundation

/// Every failure that crosses from libtorch (or is found before calling it) arrives as a
/// `TorchError`; no C++ exception ever reaches Swift.
public enum TorchError: Error, CustomStringConvertible, Equatable {
    /// libtorch refused an operation; the message is libtorch's own.
    case libtorch(String)
    /// A device was asked for that this libtorch build or machine cannot provide.
    case deviceUnavailable(String)
    /// A caller passed something the Swift layer can already tell is wrong.
    case invalidArgument(String)

    public var message: String {
        switch self {
        case .libtorch(let m), .deviceUnavailable(let m), .invalidArgument(let m): return m
        }
    }

    public var description: String { message }

    /// The calling thread's last shim error, trimmed of libtorch's trailing blank lines.
    static func lastShimError() -> TorchError {
        let raw = String(cString: ctorch_last_error())
        return .libtorch(raw.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Turns a shim status into a thrown error.
@inline(__always)
func check(_ status: Int32) throws {
    if status != 0 { throw TorchError.lastShimError() }
}

/// Runs a shim call that produces one tensor through an out-parameter.
@inline(__always)
func makeTensor(_ call: (UnsafeMutablePointer<OpaquePointer?>) -> Int32) throws -> Tensor {
    var out: OpaquePointer?
    try check(call(&out))
    return Tensor(owning: out!)
}
