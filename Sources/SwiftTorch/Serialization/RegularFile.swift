import Foundation

/// Files a user names, read only when they are regular files: a FIFO or a device given as a
/// dataset or model file would block the reader or never end. The open itself never blocks.
public enum RegularFile {
    /// Throws unless `path` (links followed) is a regular file, in one line naming it.
    public static func check(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CheckpointError(path, errno == ENOENT ? "no such file" : "cannot read: \(String(cString: strerror(errno)))")
        }
        try requireRegular(info, path)
    }

    /// The whole file.
    public static func data(_ path: String) throws -> Data {
        let file = try ReadOnlyFile(path)
        var data = Data(count: file.size)
        try data.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { try file.read(into: base, count: file.size, at: 0) }
        }
        return data
    }

    static func requireRegular(_ info: stat, _ path: String) throws {
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw CheckpointError(path, "is a folder, not a file")
        case S_IFIFO: throw CheckpointError(path, "is a FIFO (named pipe), not a regular file")
        default: throw CheckpointError(path, "not a regular file")
        }
    }
}
