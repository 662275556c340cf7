/// Writes a zip archive of stored entries the way `torch.save` lays one out: each entry's
/// data starts on a 64-byte boundary (padding goes into an extra field, so readers that
/// memory-map the file find aligned tensors), CRC-32 recorded, zip64 used once sizes or
/// offsets pass 4 GiB.
final class ZipWriter {
    private struct Written {
        var name: [UInt8]
        var crc: UInt32
        var size: UInt64
        var offset: UInt64
    }

    private let output: FileOutput
    private var written: [Written] = []
    static let alignment = 64
    private static let saturated32: UInt64 = 0xFFFF_FFFF

    init(_ output: FileOutput) { self.output = output }

    func add(_ name: String, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try add(name, $0) }
    }

    func add(_ name: String, _ data: UnsafeRawBufferPointer) throws {
        var crc = CRC32()
        crc.update(data)
        let nameBytes = Array(name.utf8)
        let offset = UInt64(output.position), size = UInt64(data.count)
        let needsZip64 = size >= Self.saturated32
        var extra: [UInt8] = []
        if needsZip64 {
            extra.appendLittleEndian(UInt16(1)); extra.appendLittleEndian(UInt16(16))
            extra.appendLittleEndian(size); extra.appendLittleEndian(size)
        }
        let unpadded = output.position + 30 + nameBytes.count + extra.count + 4
        let padding = (Self.alignment - unpadded % Self.alignment) % Self.alignment
        extra.appendLittleEndian(UInt16(0x4246)); extra.appendLittleEndian(UInt16(padding))
        extra.append(contentsOf: repeatElement(UInt8(ascii: "Z"), count: padding))

        var header: [UInt8] = []
        header.appendLittleEndian(ZipArchive.localHeaderSignature)
        header.appendLittleEndian(UInt16(needsZip64 ? 45 : 20))
        header.appendLittleEndian(UInt16(0))            // flags
        header.appendLittleEndian(UInt16(0))            // method: stored
        header.appendLittleEndian(UInt16(0))            // time
        header.appendLittleEndian(UInt16(0x21))         // date: 1980-01-01, for reproducible files
        header.appendLittleEndian(crc.checksum)
        header.appendLittleEndian(UInt32(min(size, Self.saturated32)))
        header.appendLittleEndian(UInt32(min(size, Self.saturated32)))
        header.appendLittleEndian(UInt16(nameBytes.count))
        header.appendLittleEndian(UInt16(extra.count))
        header.append(contentsOf: nameBytes)
        header.append(contentsOf: extra)
        try output.write(header)
        try output.write(data)
        written.append(Written(name: nameBytes, crc: crc.checksum, size: size, offset: offset))
    }

    /// Writes the central directory and end records. The archive is complete after this.
    func finish() throws {
        let directoryOffset = UInt64(output.position)
        var directory: [UInt8] = []
        for entry in written {
            var zip64: [UInt8] = []
            if entry.size >= Self.saturated32 { zip64.appendLittleEndian(entry.size); zip64.appendLittleEndian(entry.size) }
            if entry.offset >= Self.saturated32 { zip64.appendLittleEndian(entry.offset) }
            var extra: [UInt8] = []
            if !zip64.isEmpty {
                extra.appendLittleEndian(UInt16(1)); extra.appendLittleEndian(UInt16(zip64.count))
                extra.append(contentsOf: zip64)
            }
            directory.appendLittleEndian(ZipArchive.centralHeaderSignature)
            directory.appendLittleEndian(UInt16(zip64.isEmpty ? 20 : 45))  // version made by
            directory.appendLittleEndian(UInt16(zip64.isEmpty ? 20 : 45))  // version needed
            directory.appendLittleEndian(UInt16(0))
            directory.appendLittleEndian(UInt16(0))
            directory.appendLittleEndian(UInt16(0))
            directory.appendLittleEndian(UInt16(0x21))
            directory.appendLittleEndian(entry.crc)
            directory.appendLittleEndian(UInt32(min(entry.size, Self.saturated32)))
            directory.appendLittleEndian(UInt32(min(entry.size, Self.saturated32)))
            directory.appendLittleEndian(UInt16(entry.name.count))
            directory.appendLittleEndian(UInt16(extra.count))
            directory.appendLittleEndian(UInt16(0))  // comment length
            directory.appendLittleEndian(UInt16(0))  // disk
            directory.appendLittleEndian(UInt16(0))  // internal attributes
            directory.appendLittleEndian(UInt32(0))  // external attributes
            directory.appendLittleEndian(UInt32(min(entry.offset, Self.saturated32)))
            directory.append(contentsOf: entry.name)
            directory.append(contentsOf: extra)
        }
        try output.write(directory)
        let count = UInt64(written.count), size = UInt64(directory.count)
        var end: [UInt8] = []
        if count >= 0xFFFF || size >= Self.saturated32 || directoryOffset >= Self.saturated32 {
            let recordOffset = UInt64(output.position)
            end.appendLittleEndian(ZipArchive.zip64EndSignature)
            end.appendLittleEndian(UInt64(44))
            end.appendLittleEndian(UInt16(45)); end.appendLittleEndian(UInt16(45))
            end.appendLittleEndian(UInt32(0)); end.appendLittleEndian(UInt32(0))
            end.appendLittleEndian(count); end.appendLittleEndian(count)
            end.appendLittleEndian(size); end.appendLittleEndian(directoryOffset)
            end.appendLittleEndian(ZipArchive.zip64LocatorSignature)
            end.appendLittleEndian(UInt32(0)); end.appendLittleEndian(recordOffset); end.appendLittleEndian(UInt32(1))
        }
        end.appendLittleEndian(ZipArchive.endSignature)
        end.appendLittleEndian(UInt16(0)); end.appendLittleEndian(UInt16(0))
        end.appendLittleEndian(UInt16(min(count, 0xFFFF))); end.appendLittleEndian(UInt16(min(count, 0xFFFF)))
        end.appendLittleEndian(UInt32(min(size, Self.saturated32)))
        end.appendLittleEndian(UInt32(min(directoryOffset, Self.saturated32)))
        end.appendLittleEndian(UInt16(0))
        try output.write(end)
    }
}
