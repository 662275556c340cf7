import Foundation

/// A run's text log (`train.log`) for a person to read: each line the terminal shows, with the
/// time, and the scalars logged at a step gathered on one line (`step 20: gradient_norm 0.81
/// lr 0.001 train_loss 0.0412`), which the terminal's progress bar only redraws. Images and
/// videos go to the other loggers. The file is appended to, so a resumed run continues it.
public final class TextLog: MetricsLogger, @unchecked Sendable {
    public let url: URL
    private let handle: FileHandle
    private let lock = NSLock()
    /// The scalars of the step being logged, written once the step changes or on `flush`.
    private var pending: (step: Int, values: [(name: String, value: Double)])?
    private var closed = false
    private static let clock: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }()

    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw LogFileError("cannot create \(url.path); check that its folder is writable")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw LogFileError("cannot open \(url.path) for writing (\(error.localizedDescription))")
        }
    }

    deinit { try? close() }

    /// A line as the terminal shows it.
    public func text(_ line: String) {
        lock.withLock {
            writePending()
            write(line)
        }
    }

    public func scalar(_ name: String, _ value: Double, step: Int) throws {
        lock.withLock {
            if let pending, pending.step != step { writePending() }
            if pending == nil { pending = (step, []) }
            pending?.values.append((name, value))
        }
    }

    public func image(_ name: String, _ image: RGBImage, step: Int) throws {}
    public func video(_ name: String, frames: [RGBImage], fps: Double, step: Int) throws {}

    public func flush() throws {
        lock.withLock { writePending() }
    }

    public func close() throws {
        try lock.withLock {
            guard !closed else { return }
            writePending()
            closed = true
            try handle.close()
        }
    }

    private func writePending() {
        guard let pending else { return }
        self.pending = nil
        write("step \(pending.step): " + pending.values.map { "\($0.name) \(String(format: "%.6g", $0.value))" }.joined(separator: " "))
    }

    /// A failed write (a full disk) must not stop training: the line is lost, the run goes on.
    private func write(_ line: String) {
        guard !closed else { return }
        try? handle.write(contentsOf: Data((Self.clock.string(from: Date()) + " " + line + "\n").utf8))
    }
}

/// Several loggers as one: each call goes to every logger in turn.
public final class LoggerGroup: MetricsLogger {
    public let loggers: [MetricsLogger]

    public init(_ loggers: [MetricsLogger]) { self.loggers = loggers }

    public func scalar(_ name: String, _ value: Double, step: Int) throws {
        for logger in loggers { try logger.scalar(name, value, step: step) }
    }
    public func image(_ name: String, _ image: RGBImage, step: Int) throws {
        for logger in loggers { try logger.image(name, image, step: step) }
    }
    public func video(_ name: String, frames: [RGBImage], fps: Double, step: Int) throws {
        for logger in loggers { try logger.video(name, frames: frames, fps: fps, step: step) }
    }
    public func text(_ line: String) {
        for logger in loggers { logger.text(line) }
    }
    public func flush() throws {
        for logger in loggers { try logger.flush() }
    }
    public func close() throws {
        for logger in loggers { try logger.close() }
    }
}

/// A log file that cannot be created or opened.
public struct LogFileError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
