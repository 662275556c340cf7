import Foundation
import SwiftTorch

/// Writes animated GIF files (GIF89a, looping) from RGB frames of one size. Frames share a
/// global 256-colour palette: the frames' own colours when they use at most 256 (then the GIF
/// is lossless), else a median-cut palette over all frames. Pixel data is LZW-compressed.
/// TensorBoard's image dashboard plays such a GIF, which is how rollout videos are shown.
public enum GIFEncoder {
    /// The GIF file's bytes. `delayCentiseconds` is each frame's display time (GIF's unit);
    /// `loopCount` 0 loops forever.
    public static func encode(frames: [RGBImage], delayCentiseconds: Int = 10, loopCount: Int = 0) throws -> [UInt8] {
        guard let first = frames.first else { throw TorchError.invalidArgument("a GIF needs at least one frame") }
        guard frames.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw TorchError.invalidArgument("GIF frames must share one size")
        }
        guard first.width <= 65535, first.height <= 65535 else {
            throw TorchError.invalidArgument("GIF frames are at most 65535 pixels a side, got \(first.width)x\(first.height)")
        }
        let (palette, indexed) = quantize(frames)

        var gif = Array("GIF89a".utf8)
        gif.appendLittleEndian(UInt16(first.width))
        gif.appendLittleEndian(UInt16(first.height))
        gif += [0xF7, 0, 0]  // global colour table of 256 entries, 8-bit colour resolution
        for i in 0..<256 {
            let c = i < palette.count ? palette[i] : (0, 0, 0)
            gif += [c.0, c.1, c.2]
        }
        // NETSCAPE2.0 application extension: loop count.
        gif += [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01]
        gif.appendLittleEndian(UInt16(clamping: loopCount))
        gif.append(0)

        let delay = UInt16(clamping: max(delayCentiseconds, 0))
        for indices in indexed {
            // Graphic control extension: disposal 1 (leave in place), no transparency.
            gif += [0x21, 0xF9, 0x04, 0x04]
            gif.appendLittleEndian(delay)
            gif += [0, 0]
            // Image descriptor: the whole canvas, no local colour table, not interlaced.
            gif.append(0x2C)
            gif.appendLittleEndian(UInt16(0)); gif.appendLittleEndian(UInt16(0))
            gif.appendLittleEndian(UInt16(first.width)); gif.appendLittleEndian(UInt16(first.height))
            gif.append(0)
            gif.append(8)  // LZW minimum code size
            let data = lzw(indices)
            var offset = 0
            while offset < data.count {
                let n = min(255, data.count - offset)
                gif.append(UInt8(n))
                gif += data[offset..<(offset + n)]
                offset += n
            }
            gif.append(0)
        }
        gif.append(0x3B)
        return gif
    }

    /// As `encode(frames:delayCentiseconds:loopCount:)`, at `fps` frames a second (GIF keeps
    /// delays in hundredths of a second, so the rate is rounded to that).
    public static func encode(frames: [RGBImage], fps: Double, loopCount: Int = 0) throws -> [UInt8] {
        guard fps > 0 else { throw TorchError.invalidArgument("fps must be positive, got \(fps)") }
        return try encode(frames: frames, delayCentiseconds: max(1, Int((100 / fps).rounded())), loopCount: loopCount)
    }

    /// Encodes and writes to `url`.
    public static func write(frames: [RGBImage], fps: Double, to url: URL) throws {
        try Data(encode(frames: frames, fps: fps)).write(to: url)
    }

    /// Frames of a video tensor `[T, 3, H, W]` or `[T, H, W, 3]` (floats in [0, 1] or uint8).
    public static func encode(video: Tensor, fps: Double) throws -> [UInt8] {
        try encode(frames: RGBImage.frames(from: video), fps: fps)
    }

    // MARK: palette

    typealias Color = (UInt8, UInt8, UInt8)

    static func quantize(_ frames: [RGBImage]) -> (palette: [Color], indexed: [[UInt8]]) {
        // Exact palette when the frames use at most 256 colours.
        var exact: [UInt32: UInt8] = [:]
        var palette: [Color] = []
        exactScan: for frame in frames {
            let p = frame.pixels
            for i in stride(from: 0, to: p.count, by: 3) {
                let key = UInt32(p[i]) << 16 | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2])
                if exact[key] == nil {
                    if palette.count == 256 { palette = []; break exactScan }
                    exact[key] = UInt8(palette.count)
                    palette.append((p[i], p[i + 1], p[i + 2]))
                }
            }
        }
        if !palette.isEmpty {
            let indexed = frames.map { frame -> [UInt8] in
                let p = frame.pixels
                return stride(from: 0, to: p.count, by: 3).map { i in
                    exact[UInt32(p[i]) << 16 | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2])]!
                }
            }
            return (palette, indexed)
        }
        return medianCut(frames)
    }

    /// Median cut over a 5-bit-per-channel histogram; each bin maps to its nearest palette colour.
    static func medianCut(_ frames: [RGBImage]) -> (palette: [Color], indexed: [[UInt8]]) {
        func bin(_ p: [UInt8], _ i: Int) -> Int { Int(p[i] >> 3) << 10 | Int(p[i + 1] >> 3) << 5 | Int(p[i + 2] >> 3) }
        var count = [Int](repeating: 0, count: 32768)
        var sums = [Int](repeating: 0, count: 32768 * 3)
        for frame in frames {
            let p = frame.pixels
            for i in stride(from: 0, to: p.count, by: 3) {
                let b = bin(p, i)
                count[b] += 1
                sums[b * 3] += Int(p[i]); sums[b * 3 + 1] += Int(p[i + 1]); sums[b * 3 + 2] += Int(p[i + 2])
            }
        }
        var bins = (0..<32768).filter { count[$0] > 0 }
        func channel(_ b: Int, _ c: Int) -> Int { (b >> (10 - 5 * c)) & 31 }
        // Boxes are ranges of `bins`; split the widest splittable box at its weighted median.
        var boxes: [Range<Int>] = [0..<bins.count]
        while boxes.count < 256 {
            var best = -1, bestAxis = 0, bestExtent = 0
            for (n, box) in boxes.enumerated() where box.count > 1 {
                for c in 0..<3 {
                    var lo = 31, hi = 0
                    for b in bins[box] { let v = channel(b, c); lo = min(lo, v); hi = max(hi, v) }
                    if hi - lo > bestExtent { bestExtent = hi - lo; best = n; bestAxis = c }
                }
            }
            guard best >= 0 else { break }
            let box = boxes[best]
            bins[box].sort { channel($0, bestAxis) < channel($1, bestAxis) }
            let total = bins[box].reduce(0) { $0 + count[$1] }
            var running = 0, split = box.lowerBound + 1
            for i in box {
                running += count[bins[i]]
                if running * 2 >= total { split = i + 1; break }
            }
            split = min(max(split, box.lowerBound + 1), box.upperBound - 1)
            boxes[best] = box.lowerBound..<split
            boxes.append(split..<box.upperBound)
        }
        let palette: [Color] = boxes.map { box in
            var n = 0, r = 0, g = 0, b = 0
            for x in bins[box] { n += count[x]; r += sums[x * 3]; g += sums[x * 3 + 1]; b += sums[x * 3 + 2] }
            return (UInt8((r + n / 2) / n), UInt8((g + n / 2) / n), UInt8((b + n / 2) / n))
        }
        var lookup = [UInt8](repeating: 0, count: 32768)
        for x in bins {
            let n = count[x]
            let r = sums[x * 3] / n, g = sums[x * 3 + 1] / n, b = sums[x * 3 + 2] / n
            var bestIndex = 0, bestDistance = Int.max
            for (i, c) in palette.enumerated() {
                let dr = Int(c.0) - r, dg = Int(c.1) - g, db = Int(c.2) - b
                let d = dr * dr + dg * dg + db * db
                if d < bestDistance { bestDistance = d; bestIndex = i }
            }
            lookup[x] = UInt8(bestIndex)
        }
        let indexed = frames.map { frame -> [UInt8] in
            let p = frame.pixels
            return stride(from: 0, to: p.count, by: 3).map { lookup[bin(p, $0)] }
        }
        return (palette, indexed)
    }

    // MARK: LZW

    /// GIF's variable-length LZW over 8-bit indices (codes of 9 to 12 bits, packed LSB first).
    static func lzw(_ indices: [UInt8]) -> [UInt8] {
        let clearCode = 256, endCode = 257
        var out: [UInt8] = []
        var buffer: UInt32 = 0, bits = 0
        var codeSize = 9, nextCode = 258
        var table: [Int: Int] = [:]
        table.reserveCapacity(4096)
        func emit(_ code: Int) {
            buffer |= UInt32(code) << UInt32(bits)
            bits += codeSize
            while bits >= 8 { out.append(UInt8(buffer & 0xFF)); buffer >>= 8; bits -= 8 }
        }
        emit(clearCode)
        guard var current = indices.first.map(Int.init) else {
            emit(endCode)
            if bits > 0 { out.append(UInt8(buffer & 0xFF)) }
            return out
        }
        for k in indices.dropFirst() {
            let key = current << 8 | Int(k)
            if let code = table[key] { current = code; continue }
            emit(current)
            if nextCode == 4096 {
                // The table is full: start over.
                emit(clearCode)
                table.removeAll(keepingCapacity: true)
                nextCode = 258; codeSize = 9
            } else {
                // The decoder widens its codes one entry later than the encoder adds them,
                // so widen just before adding the entry that no longer fits.
                if nextCode >= 1 << codeSize { codeSize += 1 }
                table[key] = nextCode
                nextCode += 1
            }
            current = Int(k)
        }
        emit(current)
        emit(endCode)
        if bits > 0 { out.append(UInt8(buffer & 0xFF)) }
        return out
    }
}
