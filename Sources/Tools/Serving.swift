import Foundation

/// Runs a web server's `serve` (which returns once the server stops: Ctrl-C, SIGTERM) from a
/// synchronous command, printing `announce(address)` once it listens, and rethrows its error.
func serveUntilStopped(_ serve: @escaping @Sendable (@escaping @Sendable (String) -> Void) async throws -> Void,
                       announce: @escaping @Sendable (String) -> String) throws {
    final class Failure: @unchecked Sendable { var error: Error? }
    let finished = DispatchSemaphore(value: 0)
    let failure = Failure()
    Task {
        do {
            try await serve { address in
                print(announce(address))
                fflush(stdout)
            }
        } catch { failure.error = error }
        finished.signal()
    }
    finished.wait()
    if let error = failure.error { throw error }
}
