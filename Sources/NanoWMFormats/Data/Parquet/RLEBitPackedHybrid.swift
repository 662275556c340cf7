import Foundation

/// Parquet's RLE / bit-packed hybrid encoding, used for repetition and definition levels,
/// dictionary indices and RLE booleans: runs of one repeated value, or groups of eight values
/// packed `bitWidth` bits each, least significant bit first.
enum RLEBitPackedHybrid {
    struct Failure: Error { let message: String }

    /// Decodes exactly `count` values of `bitWidth` bits from `bytes[range]`.
    static func decode(_ bytes: [UInt8], _ range: Range<Int>, bitWidth: Int, count: Int) throws -> [UInt32] {
        guard (0...32).contains(bitWidth) else { throw Failure(message: "bit width \(bitWidth) is out of range") }
        var out: [UInt32] = []
        out.reserveCapacity(count)
        if bitWidth == 0 { return [UInt32](repeating: 0, count: count) }
        var position = range.lowerBound
        let end = min(range.upperBound, bytes.count)
        let valueBytes = (bitWidth + 7) / 8
        while out.count < count {
            var reader = ThriftCompactReader(bytes, from: position, to: end)
            guard let header = try? reader.varint() else { throw Failure(message: "levels or indices end early") }
            position = reader.position
            if header & 1 == 0 {
                // An RLE run: the count, then the value in whole little-endian bytes.
                let run = Int(min(header >> 1, UInt64(count - out.count)))
                guard end - position >= valueBytes else { throw Failure(message: "levels or indices end early") }
                var value: UInt32 = 0
                for i in 0..<valueBytes { value |= UInt32(bytes[position + i]) << UInt32(8 * i) }
                position += valueBytes
                out.append(contentsOf: repeatElement(value, count: run))
            } else {
                let groups = Int(min(header >> 1, UInt64(Int32.max)))
                let length = groups * bitWidth
                guard end - position >= length else { throw Failure(message: "bit-packed run ends early") }
                let wanted = min(groups * 8, count - out.count)
                unpack(bytes, at: position, bitWidth: bitWidth, count: wanted, into: &out)
                position += length
            }
        }
        return out
    }

    private static func unpack(_ bytes: [UInt8], at start: Int, bitWidth: Int, count: Int, into out: inout [UInt32]) {
        let mask = bitWidth == 32 ? UInt64(UInt32.max) : (UInt64(1) << UInt64(bitWidth)) - 1
        var bit = 0
        for _ in 0..<count {
            var value: UInt64 = 0, taken = 0
            while taken < bitWidth {
                let byteIndex = start + (bit >> 3), offset = bit & 7
                let chunk = min(8 - offset, bitWidth - taken)
                value |= UInt64((bytes[byteIndex] >> UInt8(offset)) & UInt8((1 << chunk) - 1)) << UInt64(taken)
                taken += chunk
                bit += chunk
            }
            out.append(UInt32(value & mask))
        }
    }

    /// The number of bits a level up to `maxLevel` takes.
    static func bitWidth(for maxLevel: Int) -> Int {
        maxLevel == 0 ? 0 : Int.bitWidth - maxLevel.leadingZeroBitCount
    }
}
