import Foundation

/// A one-line progress bar on standard error: `label [#####-----] 50/100 12.3 it/s ETA 0:04 loss 0.12`.
/// On a terminal it redraws in place; when output is redirected it prints a line every 10 %,
/// so logs stay readable.
public final class ProgressBar {
    private let label: String
    private let total: Int
    /// Where this process began (a resumed run's step): rate and ETA count only steps done here.
    private let first: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastPercentPrinted = -1
    private let interactive = isatty(STDERR_FILENO) != 0
    private var finished = false

    public init(_ label: String, total: Int, startingAt first: Int = 0) {
        self.label = label
        self.total = Swift.max(total, 1)
        self.first = first
    }

    /// Reports `done` of `total`; `status` is appended (e.g. the current loss).
    public func update(_ done: Int, status: String = "") {
        let now = Date()
        let percent = done * 100 / total
        if interactive {
            guard done >= total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
            FileHandle.standardError.write(Data(("\r" + line(done, elapsed: now.timeIntervalSince(start), status) + "\u{1B}[K").utf8))
        } else {
            guard percent / 10 != lastPercentPrinted / 10 || done >= total else { return }
            lastPercentPrinted = percent
            FileHandle.standardError.write(Data((line(done, elapsed: now.timeIntervalSince(start), status) + "\n").utf8))
        }
        if done >= total { finish() }
    }

    public func finish() {
        guard !finished else { return }
        finished = true
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func line(_ done: Int, elapsed: TimeInterval, _ status: String) -> String {
        // A rate measured over less than a tenth of a second is noise ("98689.5 it/s" for a bar
        // created just before its first update), so none is shown until then.
        let rate = elapsed >= Self.shortestMeasurement ? Double(done - first) / elapsed : 0
        let width = 24, filled = Swift.min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        // No rate before the first step done here (not "0.0 s/it").
        let speed = rate >= 1 ? String(format: "%.1f it/s", rate) : rate > 0 ? String(format: "%.1f s/it", 1 / rate) : "-- it/s"
        let eta = rate > 0 ? Self.clock(remaining) : "--"
        return "\(label) [\(bar)] \(done)/\(total) \(speed) ETA \(eta)" + (status.isEmpty ? "" : " " + status)
    }

    static let shortestMeasurement: TimeInterval = 0.1

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
