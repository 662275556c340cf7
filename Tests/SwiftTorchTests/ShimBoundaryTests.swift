import CTorchShim
@testable import SwiftTorch
import TestSupport
import XCTest

/// The shim's rule: no C++ exception crosses it. Calls that libtorch makes throw (and that
/// used to be unguarded, so the process aborted) now fail with a status and libtorch's
/// message, which SwiftTorch throws as `TorchError.libtorch`.
final class ShimBoundaryTests: XCTestCase {
    private func lastError() -> String { String(cString: ctorch_last_error()) }

    /// at::set_num_threads throws for n ≤ 0 ("Expected positive number of threads").
    func testNonPositiveThreadCountsThrowLibtorchsError() throws {
        let before = try Torch.numThreads
        for n in [0, -3] {
            XCTAssertThrowsError(try Torch.setNumThreads(n)) { error in
                guard case TorchError.libtorch(let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("positive number of threads"), message)
            }
        }
        XCTAssertEqual(try Torch.numThreads, before, "a refused setting changes nothing")
        XCTAssertThrowsError(try Torch.setNumThreads(1 << 40)) { error in
            XCTAssertTrue("\(error)".contains("out of range"), "\(error)")
        }
    }

    /// torch.set_float32_matmul_precision: the three names round-trip through libtorch's
    /// context, starting from its default.
    func testFloat32MatmulPrecisionRoundTrips() throws {
        let before = try Torch.float32MatmulPrecision
        defer { try? Torch.setFloat32MatmulPrecision(before) }
        XCTAssertEqual(before, .highest, "libtorch's default")
        for precision in Torch.MatmulPrecision.allCases {
            try Torch.setFloat32MatmulPrecision(precision)
            XCTAssertEqual(try Torch.float32MatmulPrecision, precision)
        }
    }

    /// Autocast getters threw (or read out of bounds) for a device type autocast lacks.
    func testAutocastOnUnsupportedDeviceIsReported() {
        let mkldnn: Int32 = 2  // c10::DeviceType::MKLDNN, which autocast does not support
        var enabled = false
        var dtype: Int32 = 0
        XCTAssertNotEqual(ctorch_autocast_is_enabled(mkldnn, &enabled), 0)
        XCTAssertTrue(lastError().contains("autocast does not support device type 2"), lastError())
        XCTAssertNotEqual(ctorch_autocast_get_dtype(mkldnn, &dtype), 0)
        XCTAssertNotEqual(ctorch_autocast_set_enabled(mkldnn, true), 0)
        XCTAssertEqual(ctorch_autocast_is_enabled(Int32(CTORCH_CPU), &enabled), 0, lastError())
    }

    /// Every call that takes a tensor reports a NULL handle instead of dereferencing it.
    func testNullHandlesAreReportedByEveryMetadataGetter() {
        var i64: Int64 = 0, i32: Int32 = 0, index: Int32 = 0, flag = false
        var pointer: UnsafeMutableRawPointer?
        var dims = [Int64](repeating: 0, count: 4)
        let calls: [(String, () -> Int32)] = [
            ("dim", { ctorch_tensor_dim(nil, &i64) }),
            ("sizes", { ctorch_tensor_sizes(nil, &dims, 4) }),
            ("strides", { ctorch_tensor_strides(nil, &dims, 4) }),
            ("numel", { ctorch_tensor_numel(nil, &i64) }),
            ("dtype", { ctorch_tensor_dtype(nil, &i32) }),
            ("device", { ctorch_tensor_device(nil, &i32, &index) }),
            ("is_contiguous", { ctorch_tensor_is_contiguous(nil, &flag) }),
            ("storage_offset", { ctorch_tensor_storage_offset(nil, &i64) }),
            ("data_ptr", { ctorch_tensor_data_ptr(nil, &pointer) }),
            ("requires_grad", { ctorch_requires_grad(nil, &flag) }),
            ("unary", { var out: OpaquePointer?; return ctorch_unary(CTORCH_NEG, nil, &out) }),
        ]
        for (name, call) in calls {
            XCTAssertNotEqual(call(), 0, name)
            XCTAssertTrue(lastError().contains("NULL tensor handle"), "\(name): \(lastError())")
        }
    }

    /// A destination too small for the tensor's dimensions is refused, not overrun.
    func testSizesIntoTooSmallABufferIsReported() throws {
        let t = try Tensor.zeros([2, 3, 4])
        var dims = [Int64](repeating: 0, count: 2)
        XCTAssertNotEqual(withExtendedLifetime(t) { ctorch_tensor_sizes(t.handle, &dims, 2) }, 0)
        XCTAssertTrue(lastError().contains("3 dimensions"), lastError())
        XCTAssertEqual(t.shape, [2, 3, 4])
    }

    /// A scalar whose kind is none of the named ones is refused by the shim.
    func testUnknownScalarKindIsReported() {
        var out: OpaquePointer?
        var size: Int64 = 2
        let bogus = ctorch_scalar(f: 1, i: 1, kind: ctorch_scalar_kind(rawValue: 7))
        XCTAssertNotEqual(ctorch_full(&size, 1, bogus, Int32(CTORCH_F32), Int32(CTORCH_CPU), 0, &out), 0)
        XCTAssertTrue(lastError().contains("unknown scalar kind 7"), lastError())
    }

    /// The named selectors reach the operations they name: each pair (tril/triu, max/min,
    /// argmax/argmin) against PyTorch, so a swapped selector fails. rand/randn and
    /// uniform_/normal_ are checked draw for draw in RandomTests.
    func testNamedSelectorsMatchPyTorch() throws {
        try manualSeed(7)
        let x = try Tensor.randn([3, 4, 5])
        let torch = try PyTorchBaseline.shared.run("""
        x = I['x']
        O['tril'] = x.tril(1); O['triu'] = x.triu(-1)
        O['max_v'], O['max_i'] = x.max(dim=1); O['min_v'], O['min_i'] = x.min(dim=2, keepdim=True)
        O['argmax'] = x.argmax(); O['argmin'] = x.argmin(); O['argmin1'] = x.argmin(dim=1)
        """, inputs: ["x": x])
        try assertExactlyEqual(x.tril(1), torch["tril"], "tril")
        try assertExactlyEqual(x.triu(-1), torch["triu"], "triu")
        let max = try x.max(dim: 1), min = try x.min(dim: 2, keepdim: true)
        try assertExactlyEqual(max.values, torch["max_v"], "max values")
        try assertExactlyEqual(max.indices, torch["max_i"], "max indices")
        try assertExactlyEqual(min.values, torch["min_v"], "min values")
        try assertExactlyEqual(min.indices, torch["min_i"], "min indices")
        try assertExactlyEqual(x.argmax(), torch["argmax"], "argmax")
        try assertExactlyEqual(x.argmin(), torch["argmin"], "argmin")
        try assertExactlyEqual(x.argmin(dim: 1), torch["argmin1"], "argmin dim")
    }
}
