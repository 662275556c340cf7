import FuzzSupport
import Foundation
import SwiftTorch

// libFuzzer target for the pickle machine inside torch.save checkpoints: each input is the
// `data.pkl` record, placed in a valid archive beside four 256-byte storages (keys "0"…"3"),
// so every input reaches the unpickler and tensor rebuilding instead of stopping at the zip.

private let file = ScratchFile("pickle")
private let storages = (0..<4).map { key in (name: "archive/data/\(key)", data: [UInt8](repeating: UInt8(key + 1), count: 256)) }

@_cdecl("LLVMFuzzerTestOneInput")
public func pickleFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let pickle = size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size))
    file.write(StoredZip.bytes([("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8)),
                                ("archive/version", Array("3\n".utf8))] + storages))
    do {
        for (_, ref) in try Checkpoint.open(file.path).stateDict() { _ = try ref.load() }
        if ScratchFile.verbose { print("loaded") }
    } catch {
        if ScratchFile.verbose { print("refused: \(error)") }
    }
    return 0
}
