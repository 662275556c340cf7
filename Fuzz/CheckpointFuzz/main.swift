import Foundation
import FuzzSupport
import SwiftTorch

// libFuzzer target for the checkpoint readers (torch.save zip/pickle and safetensors), built
// and run only by scripts/fuzz. Each input is a whole file: the public entry points read paths,
// so the bytes go to one scratch file (on a RAM disk when the script finds one) and are read
// back the way `nanowm` reads a checkpoint. Errors are the expected outcome; a crash, a leak of
// memory past libFuzzer's limit or a hang is a finding.

private let scratch = ScratchFile("checkpoint", suffix: "bin")

@_cdecl("LLVMFuzzerTestOneInput")
public func checkpointFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    scratch.write(size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size)))
    do {
        for (_, ref) in try Checkpoint.open(scratch.path).stateDict() { _ = try ref.load() }
        if ScratchFile.verbose { print("loaded") }
    } catch {
        if ScratchFile.verbose { print("refused: \(error)") }
    }
    return 0
}
