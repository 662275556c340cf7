import Foundation

/// A sequential, buffered writer to a file descriptor that knows how many bytes it has
/// written, for formats (zip) whose headers record offsets.
final class FileOutput {
    let path: String
    private(set) var position = 0
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private static let bufferLimit = 1 << 20

    init(creating path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CheckpointError(path, "cannot create: \(String(cString: strerror(errno)))")
        }
        buffer.reserveCapacity(Self.bufferLimit)
    }

    deinit { close(descriptor) }

    func write<Bytes: Collection>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        position += bytes.count
        if buffer.count >= Self.bufferLimit { try flush() }
    }

    /// Writes a large region directly, bypassing the buffer.
    func write(_ raw: UnsafeRawBufferPointer) throws {
        if raw.count < Self.bufferLimit { return try write(raw.bindMemory(to: UInt8.self)) }
        try flush()
        try writeAll(raw)
        position += raw.count
    }

    func flush() throws {
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and forces the bytes to disk, so a rename after this publishes a whole file.
    func synchronize() throws {
        try flush()
        guard fsync(descriptor) == 0 else { throw CheckpointError(path, "fsync failed: \(String(cString: strerror(errno)))") }
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < raw.count {
            let n = Foundation.write(descriptor, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CheckpointError(path, "write failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}
