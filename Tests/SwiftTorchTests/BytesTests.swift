import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// The shared byte helpers against Python's `zlib.crc32` and `struct.pack`.
final class BytesTests: XCTestCase {
    func testCRC32MatchesPythonZlib() throws {
        // Lengths around the 8-byte slicing step, and one long enough to run the fast loop long.
        let data = (0..<10_007).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        let lengths = [0, 1, 7, 8, 9, 63, 10_007]
        let python = try PyTorchBaseline.shared.run("""
        import zlib
        data = bytes((i * 31 + (i >> 7)) & 0xFF for i in range(10007))
        O['crc'] = torch.tensor([zlib.crc32(data[:n]) for n in \(lengths)], dtype=torch.int64)
        """)
        let expected = try XCTUnwrap(python["crc"]).toArray(Int64.self)
        XCTAssertEqual(lengths.map { Int64(CRC32.of(data.prefix($0))) }, expected)
        // Updating in pieces gives the same checksum as one call.
        var crc = CRC32()
        data[..<5].withUnsafeBytes { crc.update($0) }
        data[5...].withUnsafeBytes { crc.update($0) }
        XCTAssertEqual(Int64(crc.checksum), expected.last)
    }

    func testByteOrderMatchesPythonStruct() throws {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt16(0x1234))
        bytes.appendLittleEndian(Int32(-2))
        bytes.appendLittleEndian(UInt64(0x0102_0304_0506_0708))
        bytes.appendBigEndian(UInt32(0xA1B2_C3D4))
        bytes.appendBigEndian(UInt16(7))
        let python = try PyTorchBaseline.shared.run("""
        import struct
        b = struct.pack('<HiQ', 0x1234, -2, 0x0102030405060708) + struct.pack('>IH', 0xA1B2C3D4, 7)
        O['bytes'] = torch.tensor(list(b), dtype=torch.uint8)
        """)
        XCTAssertEqual(bytes, try XCTUnwrap(python["bytes"]).toArray(UInt8.self))
    }
}
