import Foundation

/// One run at a time in a run folder: an advisory lock (`flock`) on the folder's `.lock` file,
/// held for this object's life and released by the kernel when the process ends, however it
/// ends, so a dead run's lock is simply taken over. The holder writes its pid into the file,
/// so a refused run can name it.
public final class RunFolderLock {
    public static let fileName = ".lock"
    private let descriptor: Int32

    /// Takes the lock of `folder` (which must exist), or throws naming the run that holds it.
    public init(_ folder: URL) throws {
        let path = folder.appendingPathComponent(Self.fileName).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrainingError("\(path): cannot open the run folder's lock file (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw TrainingError("\(folder.path) is in use by another run (pid \(holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown")); "
                                 + "wait for it to finish, or give this run another folder (--run-dir or hydra.run.dir)")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }  // closing the descriptor releases the lock
}
