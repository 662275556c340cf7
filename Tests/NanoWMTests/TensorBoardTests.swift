import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMFormats

/// TensorBoard event files read back by TensorBoard's own Python reader (EventAccumulator),
/// through the shared PyTorch baseline worker; PNG and GIF pixels decoded by Pillow.
final class TensorBoardTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("nanowm-tb-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testCRC32CKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)  // RFC 3720 B.4
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        let crc = CRC32C.checksum(Array("123456789".utf8))
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    func testRGBImageFromTensorLayouts() throws {
        let h = 4, w = 5
        var hwc = [Float]()
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { hwc.append(Float(y * 50 + x * 10 + c * 3) / 255) } } }
        let a = try RGBImage(tensor: Tensor(hwc, shape: [h, w, 3]))
        let b = try RGBImage(tensor: Tensor(hwc, shape: [h, w, 3]).permute(2, 0, 1).contiguous())
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.width, w)
        XCTAssertEqual(a.height, h)
        let (red, _, blue) = a[3, 2]
        XCTAssertEqual(red, 130)  // (2·50 + 3·10) / 255 → 130
        XCTAssertEqual(blue, 136)
        // Out-of-range values clamp; uint8 passes through.
        let outOfRange: [Float] = Array(repeating: 2, count: 12) + Array(repeating: -1, count: 12)
        let clamped = try RGBImage(tensor: Tensor(outOfRange, shape: [3, 2, 4]))
        XCTAssertEqual(clamped.pixels.count, 24)
        XCTAssertEqual(clamped[0, 0].0, 255)
        XCTAssertEqual(clamped[0, 0].2, 0)
        let bytes = try RGBImage(tensor: Tensor([UInt8](0..<24), shape: [2, 4, 3]))
        XCTAssertEqual(bytes.pixels, Array(0..<24))
        let video = try RGBImage.frames(from: Tensor([Float](repeating: 0.5, count: 2 * 3 * h * w), shape: [2, 3, h, w]))
        XCTAssertEqual(video.count, 2)
        XCTAssertEqual(video[1][0, 0].1, 128)
    }

    func testTensorBoardReadsScalarsImagesVideosAndHistograms() throws {
        let run = scratch.appendingPathComponent("run")
        let writer = try TensorBoardWriter(runDirectory: run)
        XCTAssertEqual(writer.directory.lastPathComponent, "tensorboard")
        XCTAssertTrue(writer.fileURL.lastPathComponent.hasPrefix("events.out.tfevents."))

        // Scalars: several tags, uneven steps, values that float32 cannot hold exactly.
        var expected: [String: [(Int, Double)]] = [:]
        for step in 0..<5 { expected["train/loss", default: []].append((step, 1 / Double(step + 3) + 0.1)) }
        for step in stride(from: 0, through: 300, by: 100) { expected["train/lr", default: []].append((step, 3e-4 * Double(step + 1))) }
        expected["eval/psnr"] = [(7, 27.123456789)]
        for (name, points) in expected { for (step, value) in points { try writer.scalar(name, value, step: step) } }

        // A PNG image (7 wide, 5 high) and one from a tensor through the protocol extension.
        var picture = try RGBImage(width: 7, height: 5)
        for y in 0..<5 { for x in 0..<7 { picture[x, y] = (UInt8(x * 36), UInt8(y * 60), UInt8((x * 13 + y * 29) % 256)) } }
        try writer.image("samples/picture", picture, step: 3)
        let chw = try Tensor((0..<(3 * 6 * 4)).map { Float($0 % 17) / 16 }, shape: [3, 6, 4])
        try writer.image("samples/tensor", tensor: chw, step: 4)

        // A GIF of a few colours, and one of 200 colours whose LZW table fills and restarts.
        let small = try (0..<3).map { t -> RGBImage in
            var f = try RGBImage(width: 16, height: 12, filling: (10, 20, 30))
            for y in 0..<12 { for x in 0..<16 where (x + y + t) % 4 == 0 { f[x, y] = (255, UInt8(t * 100), 0) } }
            return f
        }
        try writer.video("rollout/small", frames: small, fps: 10, step: 5)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        let colors = (0..<200).map { _ in (UInt8(random() % 256), UInt8(random() % 256), UInt8(random() % 256)) }
        let noisy = try (0..<2).map { _ -> RGBImage in
            var f = try RGBImage(width: 96, height: 80)
            for y in 0..<80 { for x in 0..<96 { f[x, y] = colors[random() % colors.count] } }
            return f
        }
        try writer.video("rollout/noisy", frames: noisy, fps: 4, step: 6)

        // More than 256 colours: median-cut palette, so only approximately equal.
        var smooth = try RGBImage(width: 64, height: 48)
        for y in 0..<48 { for x in 0..<64 { smooth[x, y] = (UInt8(x * 4), UInt8(y * 5), UInt8((x + y) * 2)) } }
        try writer.video("rollout/smooth", frames: [smooth, smooth], fps: 2, step: 7)

        try writer.histogram("weights/w", values: (0..<1000).map { Double($0) / 999 - 0.25 }, step: 8)
        try writer.flush()
        try writer.close()

        let outputs = try PyTorchBaseline.shared.run("""
        import glob, io, os, struct
        import numpy as np
        from PIL import Image, ImageSequence
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
        d = \(String(reflecting: writer.directory.path))
        files = glob.glob(os.path.join(d, 'events.out.tfevents.*'))
        assert len(files) == 1, files
        raw = open(files[0], 'rb').read()
        pos = n = 0
        while pos < len(raw):
            header = raw[pos:pos + 8]
            (length,) = struct.unpack('<Q', header)
            assert struct.unpack('<I', raw[pos + 8:pos + 12])[0] == masked_crc32c(header), 'header crc'
            data = raw[pos + 12:pos + 12 + length]
            assert len(data) == length, 'truncated'
            assert struct.unpack('<I', raw[pos + 12 + length:pos + 16 + length])[0] == masked_crc32c(data), 'data crc'
            pos += 16 + length
            n += 1
        O['records'] = n
        events = list(EventFileLoader(files[0]).Load())
        O['loaded'] = len(events)
        O['first_is_version'] = int(events[0].file_version == 'brain.Event:2')
        ea = EventAccumulator(d, size_guidance={'scalars': 0, 'images': 0, 'histograms': 0})
        ea.Reload()
        tags = ea.Tags()
        text = lambda s: torch.tensor(list(s.encode()), dtype=torch.uint8)
        for kind in ('scalars', 'images', 'histograms'):
            O['tags/' + kind] = text('\\n'.join(sorted(tags[kind])))
        for t in tags['scalars']:
            ev = ea.Scalars(t)
            O['steps/' + t] = torch.tensor([e.step for e in ev], dtype=torch.int64)
            O['values/' + t] = torch.tensor([e.value for e in ev], dtype=torch.float32)
        for t in tags['images']:
            (e,) = ea.Images(t)
            O['size/' + t] = torch.tensor([e.width, e.height, e.step])
            im = Image.open(io.BytesIO(e.encoded_image_string))
            O['format/' + t] = text(im.format)
            O['pixels/' + t] = torch.from_numpy(np.stack([np.array(f.convert('RGB')) for f in ImageSequence.Iterator(im)]))
        (h,) = ea.Histograms('weights/w')
        v = h.histogram_value
        O['histogram'] = torch.tensor([h.step, v.min, v.max, v.num, sum(v.bucket), len(v.bucket_limit)], dtype=torch.float64)
        """)

        func int(_ key: String) throws -> Int { try XCTUnwrap(outputs[key], key).item(Int.self) }
        func text(_ key: String) throws -> String { String(decoding: try XCTUnwrap(outputs[key], key).toArray(UInt8.self), as: UTF8.self) }

        let scalarCount = expected.values.map(\.count).reduce(0, +)
        XCTAssertEqual(try int("records"), 1 + scalarCount + 2 + 3 + 1)
        XCTAssertEqual(try int("loaded"), 1 + scalarCount + 2 + 3 + 1)
        XCTAssertEqual(try int("first_is_version"), 1)
        XCTAssertEqual(try text("tags/scalars"), expected.keys.sorted().joined(separator: "\n"))
        XCTAssertEqual(try text("tags/images"), ["rollout/noisy", "rollout/small", "rollout/smooth", "samples/picture", "samples/tensor"].joined(separator: "\n"))
        XCTAssertEqual(try text("tags/histograms"), "weights/w")

        for (name, points) in expected {
            XCTAssertEqual(try XCTUnwrap(outputs["steps/" + name]).toArray(Int.self), points.map(\.0), name)
            XCTAssertEqual(try XCTUnwrap(outputs["values/" + name]).toArray(Float.self), points.map { Float($0.1) }, name)
        }

        func pixels(_ tag: String) throws -> [UInt8] { try XCTUnwrap(outputs["pixels/" + tag], tag).toArray(UInt8.self) }
        func shape(_ tag: String) throws -> [Int] { try XCTUnwrap(outputs["pixels/" + tag], tag).shape }

        XCTAssertEqual(try text("format/samples/picture"), "PNG")
        XCTAssertEqual(try XCTUnwrap(outputs["size/samples/picture"]).toArray(Int.self), [7, 5, 3])
        XCTAssertEqual(try shape("samples/picture"), [1, 5, 7, 3])
        XCTAssertEqual(try pixels("samples/picture"), picture.pixels)

        XCTAssertEqual(try XCTUnwrap(outputs["size/samples/tensor"]).toArray(Int.self), [4, 6, 4])
        XCTAssertEqual(try pixels("samples/tensor"), try RGBImage(tensor: chw).pixels)

        XCTAssertEqual(try text("format/rollout/small"), "GIF")
        XCTAssertEqual(try XCTUnwrap(outputs["size/rollout/small"]).toArray(Int.self), [16, 12, 5])
        XCTAssertEqual(try shape("rollout/small"), [3, 12, 16, 3])
        XCTAssertEqual(try pixels("rollout/small"), small.flatMap(\.pixels))

        XCTAssertEqual(try shape("rollout/noisy"), [2, 80, 96, 3])
        XCTAssertEqual(try pixels("rollout/noisy"), noisy.flatMap(\.pixels))

        XCTAssertEqual(try shape("rollout/smooth"), [2, 48, 64, 3])
        let decoded = try pixels("rollout/smooth"), original = smooth.pixels + smooth.pixels
        let meanError = zip(decoded, original).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(original.count)
        XCTAssertLessThan(meanError, 4, "median-cut palette error")

        let histogram = try XCTUnwrap(outputs["histogram"]).toArray(Double.self)
        XCTAssertEqual(histogram[0], 8)
        XCTAssertEqual(histogram[1], -0.25, accuracy: 1e-12)
        XCTAssertEqual(histogram[2], 0.75, accuracy: 1e-12)
        XCTAssertEqual(histogram[3], 1000)
        XCTAssertEqual(histogram[4], 1000)
        XCTAssertEqual(histogram[5], 30)
    }

    func testPNGReadsBackInPillow() throws {
        // Colours that differ per channel, so a swapped R and B (OpenCV works in BGR) shows.
        var image = try RGBImage(width: 200, height: 120)
        for y in 0..<120 { for x in 0..<200 { image[x, y] = (UInt8(x), UInt8((x * y) % 251), UInt8(y * 2)) } }
        let url = scratch.appendingPathComponent("big.png")
        try PNGEncoder.write(image, to: url)
        let outputs = try PyTorchBaseline.shared.run("""
        import numpy as np
        from PIL import Image
        im = Image.open(\(String(reflecting: url.path)))
        im.load()
        O['mode_is_rgb'] = int(im.mode == 'RGB')
        O['pixels'] = torch.from_numpy(np.array(im))
        """)
        XCTAssertEqual(try XCTUnwrap(outputs["mode_is_rgb"]).item(Int.self), 1)
        XCTAssertEqual(try XCTUnwrap(outputs["pixels"]).shape, [120, 200, 3])
        XCTAssertEqual(try XCTUnwrap(outputs["pixels"]).toArray(UInt8.self), image.pixels)
    }

    func testSystemMetricsSample() throws {
        let metrics = SystemMetrics(gpuMemoryBytes: { 3 * 1_048_576 })
        var x = 0.0
        for i in 0..<2_000_000 { x += Double(i % 7) }
        XCTAssertGreaterThan(x, 0)
        let sample = metrics.sample()
        XCTAssertEqual(sample["system/gpu_memory_mb"], 3)
        #if os(Linux)
        XCTAssertGreaterThan(try XCTUnwrap(sample["system/rss_mb"]), 1)
        let ram = try XCTUnwrap(sample["system/ram_used_percent"])
        XCTAssertTrue((0...100).contains(ram))
        XCTAssertNotNil(sample["system/process_cpu_percent"])
        #endif
        XCTAssertNil(SystemMetrics().sample()["system/gpu_memory_mb"])

        let writer = try TensorBoardWriter(directory: scratch.appendingPathComponent("sys"))
        try metrics.log(to: writer, step: 1)
        try writer.close()
        XCTAssertThrowsError(try writer.scalar("late", 1, step: 2))
    }
}
