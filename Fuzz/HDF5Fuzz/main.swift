import Foundation
import FuzzSupport
import NanoWMCore
import NanoWMFormats

// libFuzzer target for the HDF5 path (the C shim over libhdf5 and HDF5File), built and run
// only by scripts/fuzz. Each input is a whole file written to one scratch file (on a RAM disk
// when the script finds one), opened and read the way CSGOSource reads an episode's first
// steps. Errors are the expected outcome; a crash or a hang is a finding (inside libhdf5 too).

private let scratch = ScratchFile("episode", suffix: "hdf5")

@_cdecl("LLVMFuzzerTestOneInput")
public func hdf5FuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    scratch.write(size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size)))
    do {
        let file = try HDF5File(url: URL(fileURLWithPath: scratch.path))
        for step in 0..<3 {
            if try file.shape("frame_\(step)_x") != nil { _ = try file.read("frame_\(step)_x", as: .uint8) }
            if try file.shape("frame_\(step)_y") != nil { _ = try file.read("frame_\(step)_y", as: .float32) }
        }
        if ScratchFile.verbose { print("read") }
    } catch {
        if ScratchFile.verbose { print("refused: \(error)") }
    }
    return 0
}
