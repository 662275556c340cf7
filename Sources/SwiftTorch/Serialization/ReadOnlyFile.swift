import Foundation

/// A file opened for positioned reads. Readers ask for exactly the byte ranges they need, so
/// a large checkpoint is never held in memory twice: tensor data goes straight from the file
/// into the tensor that owns it.
final class ReadOnlyFile {
    let path: String
    let size: Int
    private let descriptor: Int32

    init(_ path: String) throws {
        self.path = path
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; on a
        // regular file the flag changes nothing.
        descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw CheckpointError(path, "cannot open: " + (errno == ENOENT ? "no such file" : String(cString: strerror(errno))))
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw CheckpointError(path, "cannot read: \(String(cString: strerror(errno)))")
        }
        do { try RegularFile.requireRegular(info, path) } catch {
            close(descriptor)
            throw error
        }
        size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    /// Large reads are split across cores: copying out of the page cache is the cost, and one
    /// thread does not saturate memory bandwidth.
    static let parallelChunk = 1 << 20

    /// Fills `count` bytes at `destination` from `offset`, or throws naming the shortfall.
    func read(into destination: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw CheckpointError(path, "needs bytes \(offset)..<\(offset + count) but the file has \(size) (truncated?)")
        }
        let chunks = count / Self.parallelChunk
        guard chunks >= 2 else { return try readSerially(into: destination, count: count, at: offset) }
        var failure: Error?
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            let start = i * count / chunks, end = (i + 1) * count / chunks
            do {
                try readSerially(into: destination + start, count: end - start, at: offset + start)
            } catch {
                lock.lock(); failure = failure ?? error; lock.unlock()
            }
        }
        if let failure { throw failure }
    }

    private func readSerially(into destination: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let n = pread(descriptor, destination + done, Swift.min(count - done, 1 << 30), off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw CheckpointError(path, "read failed at byte \(offset + done): \(n < 0 ? String(cString: strerror(errno)) : "unexpected end of file")")
            }
            done += n
        }
    }

    func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { try read(into: buffer.baseAddress!, count: count, at: offset) }
            initialized = count
        }
    }
}

/// Little-endian integer reads from a byte array with bounds checks, for parsing headers of
/// untrusted files without trapping.
struct ByteCursor {
    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8], at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, n <= remaining else { return false }
        position += n
        return true
    }

    mutating func uint(_ width: Int) -> UInt64? {
        guard width <= remaining else { return nil }
        var value: UInt64 = 0
        for i in 0..<width { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += width
        return value
    }

    mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, n <= remaining else { return nil }
        defer { position += n }
        return bytes[position..<(position + n)]
    }
}
