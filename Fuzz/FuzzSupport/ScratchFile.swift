import Foundation

/// One scratch file per fuzzing process (on a RAM disk when scripts/fuzz finds one): the
/// readers' public entry points take paths.
public struct ScratchFile {
    public let path: String

    /// `suffix` is the file's extension, for readers (FFmpeg) that guess a format from it.
    public init(_ name: String, suffix: String = "bin") {
        let dir = ProcessInfo.processInfo.environment["NANOWM_FUZZ_SCRATCH"] ?? NSTemporaryDirectory()
        path = (dir as NSString).appendingPathComponent("\(name)-\(getpid()).\(suffix)")
    }

    public func write(_ bytes: [UInt8]) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
    }

    /// NANOWM_FUZZ_VERBOSE=1 prints each input's outcome (for replaying a corpus or a finding).
    public static let verbose = ProcessInfo.processInfo.environment["NANOWM_FUZZ_VERBOSE"] != nil
}
