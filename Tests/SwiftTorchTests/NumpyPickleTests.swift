import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// NumPy arrays and scalars inside plain pickles and `torch.save` files (DINO-WM's
/// `seq_lengths.pkl`, frames saved as arrays), written by Python live and read by our reader
/// without executing anything: every dtype DINO-WM data uses, protocols 2, 4 and 5, C and
/// Fortran order. Exact.
final class NumpyPickleTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    override func setUpWithError() throws { scratch = try TemporaryDirectory("numpy-pickle") }
    override func tearDown() { scratch.remove() }

    func testArraysScalarsAndListsReadAsPythonWroteThem() throws {
        let folder = scratch.url.path
        let expected = try PyTorchBaseline.shared.run("""
        import numpy as np, pickle
        rng = np.random.default_rng(3)
        arrays = {'u1': rng.integers(0, 256, (3, 4, 5, 3), dtype=np.uint8), 'i8': rng.integers(-9, 9, (7,)),
                  'f4': rng.normal(size=(2, 3)).astype(np.float32), 'f8': rng.normal(size=(4,)),
                  'i4': rng.integers(-9, 9, (2, 2), dtype=np.int32), 'b1': rng.normal(size=(5,)) > 0,
                  'fortran': np.asfortranarray(rng.normal(size=(3, 4)).astype(np.float32))}
        for protocol in (2, 4, 5):
            for name, a in arrays.items():
                with open(f'\(folder)/{name}_{protocol}.pkl', 'wb') as f: pickle.dump(a, f, protocol=protocol)
                O[name] = torch.from_numpy(np.ascontiguousarray(a))
        with open('\(folder)/lengths.pkl', 'wb') as f: pickle.dump([np.int64(17), 20, np.int32(5)], f)
        torch.save(arrays['u1'], '\(folder)/frames.pth')
        """)
        for version in [2, 4, 5] {
            for name in ["u1", "i8", "f4", "f8", "i4", "b1", "fortran"] {
                let value = try PickleFile.load("\(folder)/\(name)_\(version).pkl")
                let tensor = try XCTUnwrap(try value.numericTensor(), "\(name) protocol \(version)")
                try assertExactlyEqual(tensor, expected[name], "\(name) protocol \(version)")
            }
        }
        let lengths = try XCTUnwrap(try PickleFile.load("\(folder)/lengths.pkl").numericTensor())
        XCTAssertEqual(try lengths.toArray(Int64.self), [17, 20, 5])
        let frames = try XCTUnwrap(try Checkpoint.open("\(folder)/frames.pth").root.numericTensor())
        try assertExactlyEqual(frames, expected["u1"], "ndarray inside torch.save")
    }
}
