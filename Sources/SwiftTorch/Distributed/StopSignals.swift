import Foundation

/// Watches the signals that ask a job to stop cleanly — Ctrl-C (SIGINT), a scheduler's SIGTERM,
/// and SIGUSR1, which SLURM sends ahead of the kill with `--signal` — while installed. The
/// signals' default action (ending the process at once) is suspended; `cancel` restores it.
public final class StopSignalWatch {
    public static let signals: [Int32] = [SIGINT, SIGTERM, SIGUSR1]

    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var first: Int32?

    /// `handler` runs on a background queue for every signal that arrives.
    public init(handler: @escaping (Int32) -> Void = { _ in }) {
        sources = Self.signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                self?.lock.withLock { if self?.first == nil { self?.first = number } }
                handler(number)
            }
            source.resume()
            return source
        }
    }

    /// The first stop signal received so far, if any.
    public var received: Int32? { lock.withLock { first } }

    /// Gives the signals their default action back.
    public func cancel() {
        guard !sources.isEmpty else { return }
        sources.forEach { $0.cancel() }
        sources = []
        for number in Self.signals { signal(number, SIG_DFL) }
    }

    deinit { cancel() }

    /// `SIGTERM`, `SIGINT`, …
    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGUSR1: return "SIGUSR1"
        default: return "signal \(number)"
        }
    }
}

/// A job that stopped because a stop signal asked it to (its state saved where it had any):
/// the process then exits with 128 + the signal's number, as a shell reports a process the
/// signal ended, so a scheduler never takes it for a success.
public struct StoppedBySignal: Error, CustomStringConvertible {
    public let signal: Int32
    public let message: String

    public init(signal: Int32, message: String) { (self.signal, self.message) = (signal, message) }

    public var exitCode: Int32 { 128 + signal }
    public var description: String { message }
}
