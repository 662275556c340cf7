import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// Our safetensors reader and writer against the `safetensors` Python package.
final class SafeTensorsTests: XCTestCase {
    func testWeReadWhatPythonWrites() throws {
        // The baseline worker itself writes outputs with safetensors.torch.save_file.
        let torch = try PyTorchBaseline.shared.run("""
        O['f'] = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7
        O['h'] = torch.arange(6, dtype=torch.bfloat16) - 2
        O['i'] = torch.tensor([[1, -2], [3, 4]], dtype=torch.int64)
        """)
        XCTAssertEqual(try XCTUnwrap(torch["f"]).shape, [3, 4])
        XCTAssertEqual(try XCTUnwrap(torch["h"]).dtype, .bfloat16)
        XCTAssertEqual(try XCTUnwrap(torch["i"]).toArray(Int64.self), [1, -2, 3, 4])
        XCTAssertEqual(try XCTUnwrap(torch["f"]).toArray(Float.self)[5], Float(5) / 7)
    }

    func testPythonReadsWhatWeWrite() throws {
        let t = try Tensor([1.5, -2, 3] as [Float], shape: [3])
        // Inputs reach the worker through our writer; it echoes them back after its own read.
        let echoed = try PyTorchBaseline.shared.run("O['t'] = I['t'] * 1", inputs: ["t": t])
        try assertExactlyEqual(t, echoed["t"])
    }

    func testTruncatedFileIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID()).safetensors").path
        try SafeTensors.write(["w": Tensor.zeros([16, 16])], to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try SafeTensors.read(path)) { error in
            XCTAssertTrue("\(error)".contains(path), "error should name the file: \(error)")
        }
    }
}
