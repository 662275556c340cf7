import Foundation
import NanoWM
import NanoWMCore
import NanoWMFormats
import SwiftTorch

/// `nanowm play`'s frame rate on a trained run (`--run FOLDER`, e.g. the quickstart's): a game
/// from the run's start, 40 frames with the keys changing every 5, at 4, 10 and 20 DDIM steps,
/// cached (as play samples) and uncached (every step on the whole window, as upstream),
/// split into where a frame's time goes: the model (cached causal sampling), the rest of the
/// step (decoding, the simulator, bookkeeping) and encoding it for the page (PNG and base64, as
/// the server sends it). The WebSocket and the browser are not in it; the page shows the frame
/// rate it achieves.
func benchPlay(threads: Int, run: String?) throws {
    guard let run else { throw BenchError("play needs --run FOLDER: a trained run (e.g. the quickstart's runs/quickstart)") }
    try Torch.setNumThreads(threads)
    guard let checkpoint = try RunDirectory(URL(fileURLWithPath: run), create: false).latestCheckpoint else {
        throw BenchError("\(run) holds no checkpoint under checkpoints/latest")
    }
    let trained = try TrainedCheckpoint(checkpoint.path)
    let model = try trained.model(.init(), device: .cpu)
    model.eval()
    let keys: [Set<String>] = [["ArrowRight"], ["ArrowDown"], ["ArrowLeft", "ArrowUp"], [], ["KeyD", "KeyS"]]
    print("\nplay: \(checkpoint.lastPathComponent), \(threads) thread(s), 40 frames after 5 untimed")
    print("  steps   sampling    frames/s   model ms   rest of step ms   page encoding ms")
    for steps in [4, 10, 20] {
      for cached in [true, false] {
        var setup = try trained.samplingSetup(.init(), defaults: .init(steps: steps, mode: .sequential))
        setup.options.cachedCausal = cached
        let world = try PlayWorld(checkpoint: trained, model: model, device: .cpu, setup: setup, start: nil, history: nil, actionMap: nil,
                                  recordings: FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-play-bench"))
        let session = try world.session(seed: 0)
        var (modelSeconds, stepSeconds, encodeSeconds) = (0.0, 0.0, 0.0)
        for frame in 0..<45 {
            let began = DispatchTime.now().uptimeNanoseconds
            let made = try session.step(held: keys[(frame / 5) % keys.count])
            let stepped = DispatchTime.now().uptimeNanoseconds
            for image in [made.model] + (made.simulator.map { [$0] } ?? []) { _ = try image.pngDataURL() }
            let encoded = DispatchTime.now().uptimeNanoseconds
            guard frame >= 5 else { continue }
            modelSeconds += made.stepSeconds
            stepSeconds += Double(stepped - began) / 1e9
            encodeSeconds += Double(encoded - stepped) / 1e9
        }
        let frames = 40.0
        print(String(format: "  %5d   %@   %8.1f   %8.1f   %15.2f   %16.2f", steps, cached ? "cached  " : "uncached",
                     frames / (stepSeconds + encodeSeconds), modelSeconds / frames * 1e3, (stepSeconds - modelSeconds) / frames * 1e3,
                     encodeSeconds / frames * 1e3))
      }
    }
}
