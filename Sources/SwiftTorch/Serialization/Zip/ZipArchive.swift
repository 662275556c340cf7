/// A read-only index of a zip archive's stored (uncompressed) entries, which is all that
/// `torch.save` writes; an archive with a compressed entry is refused by name. Parsing is defensive: every offset and length read from the file is
/// checked against the file before use, so a damaged archive is an error, never a crash.
final class ZipArchive {
    struct Entry {
        var name: String
        /// Bytes in the file: the data itself for a stored entry, the compressed form otherwise.
        var size: Int
        var crc32: UInt32
        var localHeaderOffset: Int
        /// Only archives opened with `compressedEntries: true` have any (TorchScript's code).
        var isCompressed = false
        /// The zip compression method (0 stored, 8 deflate) and the entry's plain size.
        var method: UInt16 = 0
        var plainSize = 0
    }

    let file: ReadOnlyFile
    let entries: [Entry]
    private let indexByName: [String: Int]

    static let localHeaderSignature: UInt32 = 0x0403_4b50
    static let centralHeaderSignature: UInt32 = 0x0201_4b50
    static let endSignature: UInt32 = 0x0605_4b50
    static let zip64EndSignature: UInt32 = 0x0606_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50

    /// `compressedEntries`: index compressed entries (their extents are still checked) instead
    /// of refusing the archive; their bytes cannot be read here.
    init(_ file: ReadOnlyFile, compressedEntries: Bool = false) throws {
        self.file = file
        let directory = try Self.centralDirectory(of: file)
        entries = try Self.readEntries(file, directory, compressedEntries: compressedEntries)
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() { index[entry.name] = i }
        indexByName = index
    }

    func entry(named name: String) -> Entry? { indexByName[name].map { entries[$0] } }

    private func fail(_ why: String) -> CheckpointError { CheckpointError(file.path, why) }

    /// Where an entry's bytes begin: after its local header, whose name and extra-field
    /// lengths may differ from the central directory's.
    func dataOffset(of entry: Entry) throws -> Int {
        var header = ByteCursor(try file.bytes(at: entry.localHeaderOffset, count: 30))
        guard header.uint(4) == UInt64(Self.localHeaderSignature) else {
            throw fail("corrupt zip: entry '\(entry.name)' has no local header at byte \(entry.localHeaderOffset)")
        }
        _ = header.skip(22)
        let nameLength = Int(header.uint(2)!), extraLength = Int(header.uint(2)!)
        let start = entry.localHeaderOffset + 30 + nameLength + extraLength
        guard start <= file.size, entry.size <= file.size - start else {
            throw fail("entry '\(entry.name)' needs bytes \(start)..<\(start + entry.size) but the file has \(file.size) (truncated?)")
        }
        return start
    }

    /// The zip specification's names for the compression methods one meets in practice.
    static func methodName(_ method: UInt16) -> String {
        switch method {
        case 8: return "deflate"
        case 9: return "deflate64"
        case 12: return "bzip2"
        case 14: return "lzma"
        case 93: return "zstd"
        case 95: return "xz"
        default: return "method \(method)"
        }
    }

    func bytes(of entry: Entry) throws -> [UInt8] {
        try requireStored(entry)
        return try file.bytes(at: try dataOffset(of: entry), count: entry.size)
    }

    /// An entry's bytes as the file holds them (compressed or not).
    func rawBytes(of entry: Entry) throws -> [UInt8] {
        try file.bytes(at: try dataOffset(of: entry), count: entry.size)
    }

    func read(_ entry: Entry, into destination: UnsafeMutableRawPointer) throws {
        try requireStored(entry)
        try file.read(into: destination, count: entry.size, at: try dataOffset(of: entry))
    }

    private func requireStored(_ entry: Entry) throws {
        guard !entry.isCompressed else { throw fail("zip entry '\(entry.name)' is compressed and cannot be read here") }
    }

    // MARK: - Central directory

    private struct Directory {
        var offset: Int
        var size: Int
        var count: Int
    }

    /// Finds the end-of-central-directory record (and its zip64 form when present).
    private static func centralDirectory(of file: ReadOnlyFile) throws -> Directory {
        func fail(_ why: String) -> CheckpointError { CheckpointError(file.path, why) }
        guard file.size >= 22 else { throw fail("not a zip archive: \(file.size) bytes is too short") }
        // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
        let tailLength = min(file.size, 22 + 65_535)
        let tailStart = file.size - tailLength
        let tail = try file.bytes(at: tailStart, count: tailLength)
        guard let at = stride(from: tail.count - 22, through: 0, by: -1).first(where: {
            tail[$0] == 0x50 && tail[$0 + 1] == 0x4b && tail[$0 + 2] == 0x05 && tail[$0 + 3] == 0x06
        }) else {
            throw fail("not a zip archive: no end-of-central-directory record (truncated or not a torch.save file)")
        }
        var record = ByteCursor(tail, at: at + 10)
        var directory = Directory(offset: 0, size: 0, count: Int(record.uint(2)!))
        directory.size = Int(record.uint(4)!)
        directory.offset = Int(record.uint(4)!)
        let recordOffset = tailStart + at
        if directory.count == 0xFFFF || directory.size == 0xFFFF_FFFF || directory.offset == 0xFFFF_FFFF {
            directory = try zip64Directory(of: file, endRecordAt: recordOffset)
        }
        guard directory.offset <= recordOffset, directory.size <= recordOffset - directory.offset else {
            throw fail("corrupt zip: central directory (\(directory.size) bytes at \(directory.offset)) lies outside the file (truncated?)")
        }
        return directory
    }

    private static func zip64Directory(of file: ReadOnlyFile, endRecordAt recordOffset: Int) throws -> Directory {
        func fail(_ why: String) -> CheckpointError { CheckpointError(file.path, why) }
        guard recordOffset >= 20 else { throw fail("corrupt zip: zip64 locator missing") }
        var locator = ByteCursor(try file.bytes(at: recordOffset - 20, count: 20))
        guard locator.uint(4) == UInt64(zip64LocatorSignature) else { throw fail("corrupt zip: zip64 locator missing") }
        _ = locator.skip(4)
        let recordAt = locator.uint(8)!
        guard recordAt <= UInt64(recordOffset - 20), UInt64(recordOffset - 20) - recordAt >= 56 else {
            throw fail("corrupt zip: zip64 end record offset \(recordAt) is outside the file")
        }
        var record = ByteCursor(try file.bytes(at: Int(recordAt), count: 56))
        guard record.uint(4) == UInt64(zip64EndSignature) else { throw fail("corrupt zip: bad zip64 end record") }
        _ = record.skip(28)
        let count = record.uint(8)!, size = record.uint(8)!, offset = record.uint(8)!
        let limit = UInt64(file.size)
        guard count <= limit, size <= limit, offset <= limit else {
            throw fail("corrupt zip: zip64 directory (\(count) entries, \(size) bytes at \(offset)) exceeds the file")
        }
        return Directory(offset: Int(offset), size: Int(size), count: Int(count))
    }

    private static func readEntries(_ file: ReadOnlyFile, _ directory: Directory, compressedEntries: Bool) throws -> [Entry] {
        func fail(_ why: String) -> CheckpointError { CheckpointError(file.path, "corrupt zip directory: \(why)") }
        var cursor = ByteCursor(try file.bytes(at: directory.offset, count: directory.size))
        var entries: [Entry] = []
        entries.reserveCapacity(min(directory.count, directory.size / 46))
        for index in 0..<directory.count {
            guard cursor.remaining >= 46, cursor.uint(4) == UInt64(centralHeaderSignature) else {
                throw fail("entry \(index) of \(directory.count) is missing or malformed")
            }
            _ = cursor.skip(6)
            let method = UInt16(cursor.uint(2)!)
            _ = cursor.skip(4)
            let crc = UInt32(cursor.uint(4)!)
            var compressedSize = cursor.uint(4)!, size = cursor.uint(4)!
            let nameLength = Int(cursor.uint(2)!), extraLength = Int(cursor.uint(2)!), commentLength = Int(cursor.uint(2)!)
            _ = cursor.skip(8)
            var offset = cursor.uint(4)!
            guard let nameBytes = cursor.take(nameLength), let extra = cursor.take(extraLength), cursor.skip(commentLength) else {
                throw fail("entry \(index) runs past the directory's end")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else { throw fail("entry \(index) has a name that is not UTF-8") }
            // Zip64: the 32-bit fields saturate and the real values follow in extra field 0x0001.
            var fields = ByteCursor(Array(extra))
            while fields.remaining >= 4 {
                let id = fields.uint(2)!, length = Int(fields.uint(2)!)
                guard let body = fields.take(length) else { break }
                guard id == 1 else { continue }
                var values = ByteCursor(Array(body))
                if size == 0xFFFF_FFFF { size = values.uint(8) ?? size }
                if compressedSize == 0xFFFF_FFFF { compressedSize = values.uint(8) ?? compressedSize }
                if offset == 0xFFFF_FFFF { offset = values.uint(8) ?? offset }
            }
            // Checked before the sizes: a compressed entry's plain size may well exceed the
            // file, and "truncated" would send the user looking for the wrong problem.
            guard method == 0 || compressedEntries else {
                throw CheckpointError(file.path, "zip entry '\(name)' is compressed (\(methodName(method))), but torch.save writes "
                    + "stored entries and only those are read: re-save the checkpoint with torch.save, or re-zip it uncompressed (zip -0)")
            }
            let limit = UInt64(file.size)
            guard compressedSize <= limit, offset <= limit else {
                throw fail("entry '\(name)' claims \(compressedSize) bytes at \(offset), beyond the \(file.size)-byte file (truncated?)")
            }
            guard method != 0 || compressedSize == size else {
                throw fail("stored entry '\(name)' has different compressed and plain sizes")
            }
            // Deflate expands at most 1032-fold: a larger claim would only make a reader allocate.
            guard size <= compressedSize &* 1032 &+ 1024 else {
                throw fail("compressed entry '\(name)' claims to inflate from \(compressedSize) to \(size) bytes")
            }
            entries.append(Entry(name: name, size: Int(compressedSize), crc32: crc, localHeaderOffset: Int(offset),
                                 isCompressed: method != 0, method: method, plainSize: Int(size)))
        }
        return entries
    }
}
