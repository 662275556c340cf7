import Foundation
import FuzzSupport
import NanoWMFormats

// libFuzzer target for the parquet reader (footer, page headers, levels, encodings, Snappy and
// Zstandard pages), built and run only by scripts/fuzz. Each input is a whole file, parsed in
// memory; every column is read. Errors are the expected outcome; a crash, a leak of memory
// past libFuzzer's limit or a hang is a finding.

private let name = URL(fileURLWithPath: "/fuzz/input.parquet")

@_cdecl("LLVMFuzzerTestOneInput")
public func parquetFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size))
    do {
        let file = try ParquetFile(bytes: bytes, url: name)
        for column in file.columnNames { _ = try file.read(column: column) }
        if ScratchFile.verbose { print("read \(file.rowCount) rows") }
    } catch {
        if ScratchFile.verbose { print("refused: \(error)") }
    }
    return 0
}
