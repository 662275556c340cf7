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

    /// Streams the content through `body` into the temporary file, then publishes it.
    static func stream(to path: String, _ body: (FileOutput) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(directory.path, "cannot create directory: \(error.localizedDescription)")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)").path
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
