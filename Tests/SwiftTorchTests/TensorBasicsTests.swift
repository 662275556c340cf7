import SwiftTorch
import TestSupport
import XCTest

final class TensorBasicsTests: XCTestCase {
    func testArrayRoundTripForEveryDType() throws {
        let values: [Double] = [0, 1, -2.5, 3.25, 100, -7]
        let baseline = try PyTorchBaseline.shared.run("""
        v = torch.tensor([0, 1, -2.5, 3.25, 100, -7], dtype=torch.float64).reshape(2, 3)
        for name in ['uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64', 'bool', 'bfloat16']:
            O[name] = v.to(getattr(torch, name))
        """)
        let source = try Tensor(values, shape: [2, 3])
        for dtype in DType.allCases {
            let name = dtype.description.replacingOccurrences(of: "torch.", with: "")
            try assertExactlyEqual(source.to(dtype), baseline[name], "cast to \(dtype)")
        }
    }

    func testMetadataAndHostArrays() throws {
        let t = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.strides, [3, 1])
        XCTAssertEqual(t.count, 6)
        XCTAssertEqual(t.dtype, .float32)
        XCTAssertEqual(t.device, .cpu)
        XCTAssertEqual(try t.transpose(0, 1).toArray(Float.self), [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(try t.transpose(0, 1).isContiguous, false)
        XCTAssertEqual(try t.sum().item(), .double(21))
        XCTAssertEqual(try Tensor(scalar: Int64(7)).item(), .int(7))
        XCTAssertEqual(try Tensor(scalar: true).item(), .bool(true))
        XCTAssertThrowsError(try Tensor([1, 2, 3] as [Float], shape: [2, 2]))
    }

    func testCreationMatchesPyTorch() throws {
        let torch = try PyTorchBaseline.shared.run("""
        O['zeros'] = torch.zeros(2, 3); O['ones'] = torch.ones(4, dtype=torch.int32)
        O['full'] = torch.full((2, 2), 1.5, dtype=torch.float64)
        O['arange_int'] = torch.arange(2, 11, 3); O['arange_float'] = torch.arange(0, 1, 0.1)
        O['linspace'] = torch.linspace(-1, 999, 251)
        """)
        try assertExactlyEqual(Tensor.zeros([2, 3]), torch["zeros"])
        try assertExactlyEqual(Tensor.ones([4], dtype: .int32), torch["ones"])
        try assertExactlyEqual(Tensor.full([2, 2], 1.5, dtype: .float64), torch["full"])
        try assertExactlyEqual(Tensor.arange(2, 11, step: 3), torch["arange_int"])
        try assertExactlyEqual(Tensor.arange(0, 1, step: 0.1), torch["arange_float"])
        try assertExactlyEqual(Tensor.linspace(-1, 999, steps: 251), torch["linspace"])
    }

    func testShapeErrorIsThrownWithLibtorchMessage() throws {
        let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4, 5])
        XCTAssertThrowsError(try a.matmul(b)) { error in
            guard case TorchError.libtorch(let message) = error else { return XCTFail("not a libtorch error: \(error)") }
            XCTAssertTrue(message.contains("cannot be multiplied"), message)
        }
        XCTAssertThrowsError(try a + b)
        XCTAssertThrowsError(try a.view(7))
        // The process keeps running and the tensors stay usable.
        XCTAssertEqual(try (a + 1).sum().item(Float.self), 6)
    }

    func testDTypeErrorIsThrown() throws {
        let floats = try Tensor.randn([3]), ints = try Tensor.arange(0, 3)
        XCTAssertThrowsError(try Tensor.embedding(floats.reshape(3, 1), indices: floats)) { error in
            XCTAssertTrue("\(error)".lowercased().contains("long") || "\(error)".contains("Int"), "\(error)")
        }
        XCTAssertThrowsError(try ints.requiresGrad_()) { error in
            XCTAssertTrue("\(error)".contains("floating point"), "\(error)")
        }
    }

    /// `nanowm doctor` tells a CUDA libtorch without a visible GPU from a CPU-only one. The
    /// libtorch linked is the one the build used: LIBTORCH, else `.libtorch`.
    func testCUDABuildIsReportedAsTheLinkedLibtorchIs() throws {
        let libtorch = ProcessInfo.processInfo.environment["LIBTORCH"].flatMap { $0.isEmpty ? nil : $0 }
            ?? PyTorchBaseline.repositoryRoot.appendingPathComponent(".libtorch").path
        let hasCUDALibrary = FileManager.default.fileExists(atPath: libtorch + "/lib/libtorch_cuda.so")
        XCTAssertEqual(Torch.isCUDABuilt, hasCUDALibrary, libtorch)
        if !Torch.isCUDABuilt { XCTAssertEqual(Torch.cudaDeviceCount, 0) }
    }

    func testDeviceErrorIsThrownWhenCUDAIsAbsent() throws {
        try XCTSkipIf(Torch.isCUDAAvailable, "this machine has CUDA")
        XCTAssertThrowsError(try Tensor.zeros([2], device: .cuda(0))) { error in
            guard case TorchError.deviceUnavailable(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("cuda:0") && message.contains("LIBTORCH"), message)
        }
        XCTAssertThrowsError(try Tensor.zeros([2]).to(.cuda(1)))
        XCTAssertThrowsError(try Device(parsing: "tpu"))
        XCTAssertEqual(try Device(parsing: "cuda:3"), .cuda(3))
    }

    /// The libtorch the binary links is the release of the PyTorch the tests compare with
    /// (its version without the local part, e.g. "+cpu").
    func testLinkedLibtorchIsTheBaselinePyTorchRelease() throws {
        let python = try PyTorchBaseline.shared.run("O['v'] = torch.tensor(list(torch.__version__.split('+')[0].encode()))")
        let bytes = try XCTUnwrap(python["v"]).to(.uint8).bytes()
        XCTAssertEqual(Torch.version, String(decoding: bytes, as: UTF8.self))
    }
}
