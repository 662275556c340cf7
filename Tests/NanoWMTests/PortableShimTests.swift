import Foundation
import TestSupport
import XCTest

/// The portable build's stand-ins for the OpenCV/FFmpeg and HDF5 shims (`unavailable.c`,
/// compiled by `scripts/bundle` only). The normal build never compiles them, so this test does:
/// with the toolchain's clang, against the shims' own headers, beside a small harness.
final class PortableShimTests: XCTestCase {
    private let root = PyTorchBaseline.repositoryRoot

    private func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "\(executable) \(arguments): \(text)")
        return text
    }

    /// The portable PNG writer's files decode, with OpenCV in Python, to the pixels given; every
    /// other media and HDF5 call fails with one line that names what is missing and the fix.
    func testPortableShimsWritePNGsOpenCVReadsAndRefuseTheRestInOneLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-portable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let harness = folder.appendingPathComponent("harness.c")
        try """
        #include <stdio.h>
        #include <stdlib.h>
        #include "cvideo.h"
        #include "chdf5.h"
        int main(int argc, char **argv) {
          int width = atoi(argv[2]), height = atoi(argv[3]);
          uint8_t *rgb = malloc((size_t)width * height * 3);
          for (int i = 0; i < width * height * 3; i++) rgb[i] = (uint8_t)((i * 2654435761u) >> 13);
          FILE *raw = fopen(argv[4], "wb"); fwrite(rgb, 1, (size_t)width * height * 3, raw); fclose(raw);
          uint8_t *png; size_t size; char error[512];
          if (cvideo_encode_png(rgb, width, height, &png, &size, error, sizeof error)) { puts(error); return 1; }
          FILE *out = fopen(argv[1], "wb"); fwrite(png, 1, size, out); fclose(out);
          cvideo_free(png);
          int frames, w, h;
          printf("%d|", cvideo_probe("clip.mp4", &frames, &w, &h, error, sizeof error)); puts(error);
          printf("%d|", cvideo_writer_open("out.mp4", "avc1", 4, 8, 8, error, sizeof error) != NULL); puts(error);
          printf("%d|", chdf5_open("data.hdf5", error, sizeof error) != NULL); puts(error);
          printf("%d|", cvideo_encode_png(rgb, 0, 3, &png, &size, error, sizeof error)); puts(error);
          printf("available %d\\n", cvideo_available());
          return 0;
        }
        """.write(to: harness, atomically: true, encoding: .utf8)
        let binary = folder.appendingPathComponent("harness").path
        // The Swift toolchain's clang, which every machine that builds this package has.
        _ = try run("/usr/bin/env", ["clang", "-std=c11", "-Wall", "-Werror", "-DNANOWM_PORTABLE",
                                    "-I", root.appendingPathComponent("Sources/CVideoShim/include").path,
                                    "-I", root.appendingPathComponent("Sources/CHDF5Shim/include").path,
                                    harness.path, root.appendingPathComponent("Sources/CVideoShim/unavailable.c").path,
                                    root.appendingPathComponent("Sources/CHDF5Shim/unavailable.c").path, "-lz", "-o", binary])
        for (width, height) in [(1, 1), (37, 5), (64, 48)] {
            let png = folder.appendingPathComponent("image.png").path, raw = folder.appendingPathComponent("image.raw").path
            let lines = try run(binary, [png, "\(width)", "\(height)", raw]).split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 5, lines.joined(separator: "\n"))
            XCTAssertTrue(lines[0].hasPrefix("1|reading videos needs OpenCV and FFmpeg"), lines[0])
            XCTAssertTrue(lines[0].contains("full build"), lines[0])
            XCTAssertTrue(lines[1].hasPrefix("0|writing videos needs OpenCV and FFmpeg"), lines[1])
            XCTAssertTrue(lines[2].hasPrefix("0|reading HDF5 files needs libhdf5"), lines[2])
            XCTAssertEqual(lines[3], "1|cannot encode a 0x3 PNG")
            XCTAssertEqual(lines[4], "available 0", "runs that would write videos are refused up front by this answer")
            // OpenCV (in the baseline's Python) reads BGR; every byte is compared after turning it to RGB.
            let decoded = try XCTUnwrap(PyTorchBaseline.shared.run("""
            import cv2, numpy
            image = cv2.imread(\(pythonString(png)), cv2.IMREAD_UNCHANGED)
            assert image is not None, 'OpenCV cannot read the PNG'
            O['rgb'] = torch.from_numpy(numpy.ascontiguousarray(image[:, :, ::-1]))
            """)["rgb"])
            XCTAssertEqual(decoded.shape, [height, width, 3], "\(width)x\(height)")
            let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
            XCTAssertEqual(try decoded.toArray(UInt8.self), written, "\(width)x\(height)")
        }
    }
}
