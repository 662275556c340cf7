import Foundation

/// Whole-file writes that never leave a partial file behind: the bytes go to a temporary
/// file beside the target, are forced to disk, and only then renamed over the target. A
/// crash or a failure at any point leaves the previous file (if any) untouched.
public enum AtomicFile {
    public static func write(to path: String, _ produce: () throws -> Data) throws {
        try stream(to: path) { output in
            let data = try produce()
            try data.withUnsafeBytes { try output.write($0) }
        }
    }

    /// `.NAME.tmp-PID`: hidden, beside its target, and owned by the writing process.
    static func temporaryName(for name: String, pid: pid_t) -> String { ".\(name).tmp-\(pid)" }

    /// Removes the temporaries in `directory` whose writing process no longer exists, which
    /// a kill during a write leaves behind (nothing else would ever remove them), and
    /// returns their paths. A temporary whose process is alive (or whose liveness cannot be
    /// told) is kept: it may be a write in progress. A missing directory has none.
    public static func removeStaleTemporaries(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> String? in
            guard let pid = writer(ofTemporary: name), !isRunning(pid) else { return nil }
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            return unlink(path) == 0 ? path : nil
        }
    }

    /// The PID in a `.NAME.tmp-PID` file name, or nil for any other name.
    static func writer(ofTemporary name: String) -> pid_t? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards),
              marker.lowerBound > name.index(after: name.startIndex) else { return nil }
        let digits = name[marker.upperBound...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let pid = pid_t(digits), pid > 0 else { return nil }
        return pid
    }

    /// kill(pid, 0) probes without signalling: only ESRCH proves the process is gone (EPERM
    /// means it exists under another user).
    private static func isRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    /// Streams the content through `body` into the temporary file, then publishes it.
    static func stream(to path: String, _ body: (FileOutput) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        try Folder.create(directory)
        let temporary = directory.appendingPathComponent(temporaryName(for: url.lastPathComponent, pid: getpid())).path
        do {
            let output = try FileOutput(creating: temporary)
            try body(output)
            try output.synchronize()
            guard rename(temporary, path) == 0 else {
                throw CheckpointError(path, "cannot move the finished temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
