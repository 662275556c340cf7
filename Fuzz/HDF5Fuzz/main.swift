import Foundation
import FuzzSupport
import NanoWMCore
import NanoWMFormats

// libFuzzer target for the HDF5 path (HDF5File, the C shim and its HDF5 reader process), built
// and run only by scripts/fuzz. Each input is a whole file written to one scratch file (on a
// RAM disk when the script finds one), opened and read the way CSGOSource reads an episode's
// first steps. Errors are the expected outcome, a crash of libhdf5 included: it runs in the
// reader process and ends there as a one-line error, as it does for users. Findings are a crash
// or hang of this process, and in the reader: a sanitizer report on our code (the reader then
// exits with a status instead of dying of a signal; scripts/fuzz lets libhdf5's signals kill
// it), an answer out of protocol, or more than 2 GB of resident memory (libFuzzer's
// -rss_limit_mb sees this process only).

private let scratch = ScratchFile("episode", suffix: "hdf5")
private let memoryLimit = 2 << 30

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
        let message = "\(error)"
        if ScratchFile.verbose { print("refused: \(message)") }
        if message.contains("HDF5 reader process exited") || message.contains("out of protocol") {
            fatalError("the HDF5 reader failed in our code: \(message)")
        }
    }
    if let peak = HDF5File.readerPeakMemoryBytes, peak > memoryLimit {
        fatalError("the HDF5 reader process reached \(peak >> 20) MB resident")
    }
    return 0
}
