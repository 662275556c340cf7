import FuzzSupport
import Foundation
import NanoWMFormats

// libFuzzer target for the video path (PushT's episodes, `nanowm metrics` on videos): each
// input is a whole .mp4 file, probed and then decoded at three frame indices the way the
// dataset reader asks for them. FFmpeg itself is not instrumented, so coverage guides the
// fuzzer through our shim and Swift only; a crash or hang inside FFmpeg is still a finding.

private let video = ScratchFile("video", suffix: "mp4")

@_cdecl("LLVMFuzzerTestOneInput")
public func mp4FuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    video.write(size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size)))
    let url = URL(fileURLWithPath: video.path)
    do {
        let info = try MP4Writer.probe(url)
        let frames = try VideoFrameReader.frames(url, indices: [0, max(0, info.frames / 2), max(0, info.frames - 1)])
        if ScratchFile.verbose { print("decoded \(frames.shape)") }
    } catch {
        if ScratchFile.verbose { print("refused: \(error)") }
    }
    return 0
}
