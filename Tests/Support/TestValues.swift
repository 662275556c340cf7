/// Small values shared by tests.
import Foundation

/// Python source for a string literal.
public func pythonString(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}

/// A fresh folder under the system's temporary directory, removed by `remove()` (call it from
/// `tearDown`).
public struct TemporaryDirectory {
    public let url: URL

    public init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    public func remove() { try? FileManager.default.removeItem(at: url) }

    /// A folder that lives as long as the test process (one a whole test class shares): removed
    /// when the process exits, so no run leaves folders behind.
    public static func removedAtExit(_ label: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(label)
        removeAtExit(directory.url)
        return directory
    }
}

/// Removes `url` when the test process exits normally.
public func removeAtExit(_ url: URL) {
    exitCleanup.lock.lock()
    defer { exitCleanup.lock.unlock() }
    if exitCleanup.urls.isEmpty {
        atexit {
            exitCleanup.lock.lock()
            defer { exitCleanup.lock.unlock() }
            for url in exitCleanup.urls { try? FileManager.default.removeItem(at: url) }
        }
    }
    exitCleanup.urls.append(url)
}

private final class ExitCleanup: @unchecked Sendable {
    let lock = NSLock()
    var urls: [URL] = []
}
private let exitCleanup = ExitCleanup()
