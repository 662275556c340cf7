import Foundation
import HummingbirdWSClient
import Logging
import NanoWM
import NanoWMWeb
import NanoWMCore
import NanoWMFormats
import SwiftTorch

/// `nanowm play`'s frame rate on a trained run (`--run FOLDER`, e.g. the quickstart's): a game
/// from the run's start, 40 frames with the keys changing every 5, at 4, 10 and 20 DDIM steps,
/// cached (as play samples) and uncached (every step on the whole window, as upstream),
/// split into where a frame's time goes: the model (cached causal sampling), the rest of the
/// step (decoding, the simulator, bookkeeping) and encoding it for the page (PNG and base64, as
/// the server sends it). Then the same game through `nanowm play`'s server on loopback, read by a
/// WebSocket client as fast as frames come (the browser's own decoding and drawing are not in
/// it; the page shows the frame rate it achieves).
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
    // One server only: it keeps the model busy on its own thread, which nothing else may then use.
    let setup = try trained.samplingSetup(.init(), defaults: .init(steps: 10, mode: .sequential))
    let world = try PlayWorld(checkpoint: trained, model: model, device: .cpu, setup: setup, start: nil, history: nil, actionMap: nil,
                              recordings: FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-play-bench"))
    let rate = try socketFrameRate(PlayServer(world: world, port: 0, seed: 0), frames: 40, untimed: 5)
    print(String(format: "  %5d   cached     %8.1f frames/s received through the server's WebSocket (loopback)", 10, rate))
}

/// Frames a second a WebSocket client receives from `server` once `untimed` frames have come.
/// The server runs until the process ends.
private func socketFrameRate(_ server: PlayServer, frames: Int, untimed: Int) throws -> Double {
    final class Box: @unchecked Sendable { var address: String?; var rate: Double?; var error: Error? }
    let box = Box(), listening = DispatchSemaphore(value: 0), measured = DispatchSemaphore(value: 0)
    Task {
        do { try await server.run { address in box.address = address; listening.signal() } } catch { box.error = error; listening.signal() }
    }
    listening.wait()
    guard let address = box.address else { throw box.error ?? BenchError("the play server did not start") }
    let url = address.replacingOccurrences(of: "http://", with: "ws://") + "session"
    Task {
        do {
            try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 26), logger: Logger(label: "nanowm-bench")) { inbound, outbound, _ in
                var count = 0, started: UInt64 = 0
                for try await message in inbound.messages(maxSize: 1 << 26) {
                    guard case .text(let text) = message, let data = text.data(using: .utf8),
                          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                          object["type"] as? String == "frame", object["action"] != nil else { continue }
                    count += 1
                    if count == untimed { started = DispatchTime.now().uptimeNanoseconds }
                    if count == untimed + frames {
                        box.rate = Double(frames) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
                        break
                    }
                }
                // Paused first, so the server's session stops at a frame's end before the socket closes.
                try await outbound.write(.text("{\"type\": \"pause\"}"))
                try await outbound.close(.normalClosure, reason: nil)
            }
        } catch { box.error = error }
        measured.signal()
    }
    measured.wait()
    Thread.sleep(forTimeInterval: 2)  // the session's last frame and its end
    guard let rate = box.rate else { throw box.error ?? BenchError("the WebSocket closed before \(untimed + frames) frames") }
    return rate
}
