import Foundation

/// Writes 8-bit RGB PNG files. The pixel data goes in a zlib stream of stored (uncompressed)
/// deflate blocks: valid for every PNG reader, larger than a compressed file, and free of a
/// zlib dependency (Foundation on Linux has no public zlib API).
public enum PNGEncoder {
    /// The PNG file's bytes for `image`.
    public static func encode(_ image: RGBImage) -> [UInt8] {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
        header += [8, 2, 0, 0, 0]
        appendChunk("IHDR", header, to: &png)

        // Each row is preceded by its filter type; 0 (None) keeps the bytes as they are.
        let rowBytes = image.width * 3
        var raw = [UInt8]()
        raw.reserveCapacity((rowBytes + 1) * image.height)
        for y in 0..<image.height {
            raw.append(0)
            raw += image.pixels[(y * rowBytes)..<((y + 1) * rowBytes)]
        }
        appendChunk("IDAT", zlibStored(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Encodes `image` and writes it to `url`.
    public static func write(_ image: RGBImage, to url: URL) throws {
        try Data(encode(image)).write(to: url)
    }

    /// A zlib stream (RFC 1950) holding `data` in stored deflate blocks (RFC 1951, BTYPE 00).
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]  // deflate, 32 KiB window, no dictionary; 0x7801 % 31 == 0
        out.reserveCapacity(data.count + data.count / 65535 * 5 + 16)
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)  // BFINAL, BTYPE = 00; the rest of the byte is padding
            out.appendLittleEndian(UInt16(n))
            out.appendLittleEndian(~UInt16(n))
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        out.appendBigEndian(Checksum.adler32(data))
        return out
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png.appendBigEndian(UInt32(data.count))
        png += typeBytes
        png += data
        png.appendBigEndian(Checksum.crc32(data, continuing: Checksum.crc32(typeBytes)))
    }
}
