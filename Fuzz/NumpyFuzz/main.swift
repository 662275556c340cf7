import FuzzSupport
import Foundation
import SwiftTorch

// libFuzzer target for NumPy's formats: each input is read as a `.npy` file and, wrapped in a
// valid zip as `a.npy`, as an `.npz` archive (the readers `nanowm metrics` and the datasets use).

private let npy = ScratchFile("numpy-npy"), npz = ScratchFile("numpy-npz")

@_cdecl("LLVMFuzzerTestOneInput")
public func numpyFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size))
    npy.write(bytes)
    npz.write(StoredZip.bytes([("a.npy", bytes)]))
    for (name, read) in [("npy", { _ = try NumpyArchive.readArray(npy.path) }), ("npz", { _ = try NumpyArchive.read(npz.path) })] {
        do {
            try read()
            if ScratchFile.verbose { print("\(name): read") }
        } catch {
            if ScratchFile.verbose { print("\(name): refused: \(error)") }
        }
    }
    return 0
}
