import FuzzSupport
import Foundation
import SwiftTorch

// libFuzzer target for loading TorchScript files (codecs, metric networks): each input is a
// whole file, checked by ScriptModule's archive checks and, when they pass, loaded by
// torch::jit::load, whose parameters are then listed. The module's code is never run: a
// TorchScript file is a program (README), so what must hold is that a damaged file ends in
// an error, not a crash or a hang, before anything runs.

private let module = ScratchFile("module", suffix: "pt")

@_cdecl("LLVMFuzzerTestOneInput")
public func torchScriptFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    module.write(size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size)))
    do {
        let loaded = try ScriptModule(contentsOf: module.path)
        let parameters = try loaded.namedParameters()
        if ScratchFile.verbose { print("loaded, \(parameters.count) parameters") }
    } catch {
        if ScratchFile.verbose { print("refused: \(error)") }
    }
    return 0
}
