import Foundation
import SwiftTorch

/// A file's size and CRC-32, which metrics files and caches record so a result can be traced to
/// the exact checkpoint, codec or network file that produced it.
public enum FileFingerprint {
    public static func of(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        var crc = CRC32()
        data.withUnsafeBytes { crc.update($0) }
        return String(format: "%d bytes, crc32 %08x", data.count, crc.checksum)
    }
}
