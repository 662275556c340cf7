import Foundation

/// Whole-file writes that never leave a partial file behind.
public enum AtomicFile {
    /// Writes the produced bytes to `path.tmp-<pid>` in the same directory, flushes it to
    /// disk, then renames it over `path`. If producing or writing fails, `path` is untouched.
    public static func write(to path: String, _ produce: () throws -> Data) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TorchError.invalidArgument("cannot create directory '\(directory.path)': \(error.localizedDescription)")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            let data = try produce()
            FileManager.default.createFile(atPath: temporary.path, contents: nil)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            if rename(temporary.path, url.path) != 0 {
                throw TorchError.invalidArgument("cannot move '\(temporary.path)' to '\(path)': \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let torchError = error as? TorchError { throw torchError }
            throw TorchError.invalidArgument("cannot write '\(path)': \(error.localizedDescription)")
        }
    }
}
