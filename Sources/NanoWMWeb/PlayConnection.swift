import Foundation
import HummingbirdWebSocket
import NanoWM
import NanoWMFormats

/// One browser tab's game: frames go out as fast as the model makes them (or one per "step"
/// while paused), while the tab's messages (keys held, pause, step, reset, record) change what
/// the next frame is made with. The model runs off Swift's cooperative threads; a tab that
/// closes mid-frame ends its game after that frame, and the server goes on.
///
/// Messages from the page (JSON): `{"type": "keys", "held": ["ArrowUp", …]}`, `pause`, `resume`,
/// `step`, `reset` (same start), `{"type": "reset", "seed": N}` (a new one), `record` (start or
/// stop). To the page: `hello` (the key map and settings), `frame` (PNG data URLs, action, step
/// time), `recorded` (files and the replay command), `error`.
final class PlayConnection: @unchecked Sendable {
    private let world: PlayWorld
    private let seed: UInt64
    private let number: Int
    private let lock = NSLock()
    private var held: Set<String> = []
    private var paused = false
    private var pendingSteps = 0
    private var pendingReset: UInt64?? = nil
    private var pendingRecord = false
    private var closed = false

    init(world: PlayWorld, seed: UInt64, number: Int) {
        (self.world, self.seed, self.number) = (world, seed, number)
    }

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let session: PlaySession
        do {
            session = try await offThread { try self.world.session(seed: self.seed) }
            try await send(outbound, hello(session))
            for frame in session.contextFrames { try await send(outbound, Self.json(frame, recording: false)) }
        } catch {
            try? await send(outbound, ["type": "error", "message": "\(error)"])
            return
        }
        let generation = Task { await self.generate(session, outbound) }
        do {
            for try await message in inbound.messages(maxSize: 1 << 16) {
                if case .text(let text) = message { handle(text) }
            }
        } catch {}
        lock.withLock { closed = true }
        generation.cancel()
        await generation.value
    }

    private func handle(_ text: String) {
        guard let data = text.data(using: .utf8), let message = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let type = message["type"] as? String else { return }
        lock.withLock {
            switch type {
            case "keys": held = Set((message["held"] as? [String]) ?? [])
            case "pause": paused = true
            case "resume": paused = false
            case "step": pendingSteps += 1
            case "reset": pendingReset = .some((message["seed"] as? NSNumber).map { $0.uint64Value })
            case "record": pendingRecord = true
            default: break
            }
        }
    }

    private func generate(_ session: PlaySession, _ outbound: WebSocketOutboundWriter) async {
        do {
            while !Task.isCancelled {
                let (keys, reset, record, go) = lock.withLock { () -> (Set<String>, UInt64??, Bool, Bool) in
                    let go = !paused || pendingSteps > 0
                    if paused && pendingSteps > 0 { pendingSteps -= 1 }
                    defer { (pendingReset, pendingRecord) = (nil, false) }
                    return (held, pendingReset, pendingRecord, go)
                }
                if let reset {
                    for frame in try await offThread({ try session.reset(seed: reset) }) {
                        try await send(outbound, Self.json(frame, recording: false))
                    }
                    continue
                }
                if record {
                    if session.isRecording {
                        let recording = try await offThread { try session.stopRecording() }
                        try await send(outbound, ["type": "recorded", "video": recording.video.path, "clip": recording.clip.path,
                                                  "frames": recording.frames, "replay": recording.replay])
                    } else {
                        try await offThread { try session.startRecording() }
                        try await send(outbound, ["type": "recording"])
                    }
                }
                guard go else {
                    try await Task.sleep(nanoseconds: 10_000_000)
                    continue
                }
                let frame = try await offThread { try session.step(held: keys) }
                try await send(outbound, Self.json(frame, recording: session.isRecording))
            }
        } catch is CancellationError {
        } catch {
            // A closed tab makes the write fail: nothing to tell. Anything else is shown.
            if !lock.withLock({ closed }) { try? await send(outbound, ["type": "error", "message": "\(error)"]) }
        }
    }

    private func hello(_ session: PlaySession) -> [String: Any] {
        let map = world.actionMap
        return ["type": "hello", "session": number, "seed": seed, "keys": map.keys, "rest": map.rest, "note": map.note ?? "",
                "history": world.history, "steps": world.setup.options.steps, "cached": world.setup.options.cachedCausal && world.model.config.causal,
                "context": world.start.description, "simulator": world.start == .environment, "checkpoint": world.checkpoint,
                "recordings": world.recordings.path]
    }

    private static func json(_ frame: PlaySession.Frame, recording: Bool) throws -> [String: Any] {
        var message: [String: Any] = ["type": "frame", "index": frame.index, "stepMs": frame.stepSeconds * 1000, "recording": recording,
                                      "model": try frame.model.pngDataURL()]
        if let action = frame.action { message["action"] = action }
        if let simulator = frame.simulator { message["simulator"] = try simulator.pngDataURL() }
        return message
    }

    private func send(_ outbound: WebSocketOutboundWriter, _ message: [String: Any]) async throws {
        let data = try JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])
        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
    }

    /// Model work on a thread of its own, so the server's event loops and Swift's cooperative
    /// threads stay free to read the tab's keys meanwhile.
    private func offThread<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try body() }) }
        }
    }
}
