import Foundation
import SwiftTorch

// libFuzzer target for the checkpoint readers (torch.save zip/pickle and safetensors), built
// and run only by scripts/fuzz. Each input is a whole file: the public entry points read paths,
// so the bytes go to one scratch file (on a RAM disk when the script finds one) and are read
// back the way `nanowm` reads a checkpoint. Errors are the expected outcome; a crash, a leak of
// memory past libFuzzer's limit or a hang is a finding.

private let scratch: String = {
    let dir = ProcessInfo.processInfo.environment["NANOWM_FUZZ_SCRATCH"] ?? NSTemporaryDirectory()
    return (dir as NSString).appendingPathComponent("checkpoint-\(getpid()).bin")
}()

/// NANOWM_FUZZ_VERBOSE=1 prints each input's outcome (for replaying a corpus or a finding).
private let verbose = ProcessInfo.processInfo.environment["NANOWM_FUZZ_VERBOSE"] != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func checkpointFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? Data() : Data(bytes: data!, count: size)
    guard FileManager.default.createFile(atPath: scratch, contents: bytes) else { fatalError("cannot write \(scratch)") }
    do {
        for (_, ref) in try Checkpoint.open(scratch).stateDict() { _ = try ref.load() }
        if verbose { print("loaded") }
    } catch {
        if verbose { print("refused: \(error)") }
    }
    return 0
}
