import Foundation
import SwiftTorch
import NanoWMFormats
import NanoWMCore

/// One player's game (a browser tab): a context, then one generated frame per step from the
/// action of the keys held, sampled exactly as `nanowm rollout` samples frame by frame (the
/// same sliding window, the same draws from its own seeded generator), so a recording replays
/// with `nanowm rollout` to the same latents. Sessions share the world's model; each keeps its
/// own generator state, so tabs do not disturb each other's draws.
public final class PlaySession {
    public struct Frame: Sendable {
        /// The frame's index since the session's start (context frames included).
        public let index: Int
        public let model: RGBImage
        /// The true simulator's frame for the same actions (the built-in start only).
        public let simulator: RGBImage?
        /// The raw action the frame was generated with (nil for context frames).
        public let action: [Double]?
        /// Seconds the model took to sample it (0 for context frames).
        public let stepSeconds: Double
    }

    /// A finished recording: the frames as a video, and the clip `nanowm rollout` replays.
    public struct Recording: Sendable {
        public let video: URL
        public let clip: URL
        public let frames: Int
        /// The `nanowm rollout` command that generates the same latents.
        public let replay: String
    }

    public let world: PlayWorld
    public private(set) var seed: UInt64
    public private(set) var frameIndex = 0
    /// The frames of the context the last reset started from.
    public private(set) var contextFrames: [Frame] = []
    public var isRecording: Bool { recording != nil }

    /// Latents `[1, n, C, h, w]`: the last `history` frames, or every frame since a recording began.
    private var latents: Tensor
    /// Raw actions, `frameInterval` rows per frame of `latents`.
    private var actions: [[Double]]
    /// The images of the last `history` frames, for a recording's first frames.
    private var recentImages: [(model: RGBImage, simulator: RGBImage?)] = []
    /// The session's own generator states (every default generator's: the model draws on its
    /// device), swapped in around each step so that other sessions do not disturb its draws.
    private var generator: GeneratorStates
    private var simulator: WallEnvironment?
    private var recording: (seed: UInt64, contextFrames: Int, images: [(model: RGBImage, simulator: RGBImage?)])?

    init(world: PlayWorld, seed: UInt64) throws {
        self.world = world
        self.seed = seed
        (latents, actions, generator) = (try Tensor.zeros([0]), [], GeneratorStates(states: []))
    }

    /// Starts again from the world's start (a new random start for the built-in one when
    /// `seed` is given); returns the context frames to show. A recording in progress is dropped.
    public func reset(seed newSeed: UInt64? = nil) throws -> [Frame] {
        if let newSeed { seed = newSeed }
        return try world.exclusive {
            let context = try world.context(seed: seed)
            (latents, actions, simulator, recording) = (context.latents, context.actions, context.simulator, nil)
            generator = try seededState(seed)
            frameIndex = context.images.count
            recentImages = context.images
            contextFrames = context.images.enumerated().map {
                Frame(index: $0.offset, model: $0.element.model, simulator: $0.element.simulator, action: nil, stepSeconds: 0)
            }
            return contextFrames
        }
    }

    /// Generates the next frame with the action of the `held` keys.
    public func step(held: Set<String>) throws -> Frame { try step(action: world.actionMap.action(held: held)) }

    /// Generates the next frame with one raw action (repeated over the frame interval).
    public func step(action: [Double]) throws -> Frame {
        guard action.count == world.actionMap.dimension, action.allSatisfy(\.isFinite) else {
            throw DataError("an action has \(world.actionMap.dimension) finite values; got \(action)")
        }
        return try world.exclusive {
            let (history, interval) = (world.history, world.frameInterval)
            for _ in 0..<interval { actions.append(action) }
            let count = latents.shape[1]
            let recent = try latents.narrow(dim: 1, start: count - history, length: history)
            // The window's actions from its first frame to the new one; later frames repeat the
            // new one, as rollout pads, and a causal model's new frame does not see them.
            let windowActions = try Self.tensor(Array(actions.suffix((history + 1) * interval))).to(world.device)
            let began = DispatchTime.now().uptimeNanoseconds
            let model = world.model
            let generated = try GeneratorStates.preserving { () -> Tensor in
                try generator.restore()
                let generated = try withNoGrad {
                    try world.rollout.generate({ x, t, a in try model(x, t: t, action: a) }, context: recent, actions: windowActions,
                                               frameInterval: interval, length: history + 1,
                                               frameByFrame: { try model.frameByFrame(actions: $0) })
                }
                generator = try GeneratorStates.capture()
                return generated
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            let latent = try generated.narrow(dim: 1, start: history, length: 1)
            latents = try Tensor.cat([latents, latent], dim: 1)
            let image = try world.pixels.images(try latent.squeeze(0))[0]
            var truth: RGBImage?
            if var simulator {
                // The simulator shows the state the actions so far lead to, then takes this one.
                truth = try RGBImage(width: simulator.resolution, height: simulator.resolution, pixels: simulator.pixelBytes())
                try simulator.step(action)
                self.simulator = simulator
            }
            recentImages = Array((recentImages + [(image, truth)]).suffix(history))
            recording?.images.append((image, truth))
            if recording == nil { try keepRecent() }
            defer { frameIndex += 1 }
            return Frame(index: frameIndex, model: image, simulator: truth, action: action, stepSeconds: seconds)
        }
    }

    /// Starts recording from here: the last `history` frames become the recording's context,
    /// and the session's generator is seeded afresh (from its seed and frame), so that
    /// `nanowm rollout --seed` reproduces what follows.
    public func startRecording() throws {
        try world.exclusive {
            let recordingSeed = seed &+ UInt64(frameIndex)
            generator = try seededState(recordingSeed)
            try keepRecent()
            recording = (recordingSeed, world.history, recentImages)
        }
    }

    /// Ends the recording and writes `<prefix>.mp4` (the model's frames, the simulator's
    /// beside them when there is one) and `<prefix>.safetensors` (`context` latents, `action`
    /// raw actions, `samples` every latent) into the world's recordings folder.
    public func stopRecording() throws -> Recording {
        try world.exclusive {
            guard let recording else { throw DataError("no recording is running; press record first") }
            self.recording = nil
            let frames = latents.shape[1]
            let stamp = Self.stamp.string(from: Date())
            let prefix = world.recordings.appendingPathComponent("play-\(stamp)-seed\(recording.seed)")
            let video = prefix.appendingPathExtension("mp4"), clip = prefix.appendingPathExtension("safetensors")
            try Folder.create(world.recordings)
            let context = try latents.narrow(dim: 1, start: 0, length: recording.contextFrames)
            let action = try Self.tensor(actions)
            let options = world.setup.options
            try SafeTensors.write(["context": try context.to(.cpu).contiguous(), "action": action, "samples": try latents.to(.cpu).contiguous()],
                                  metadata: ["seed": "\(recording.seed)", "history": "\(world.history)", "steps": "\(options.steps)",
                                             "checkpoint": world.checkpoint],
                                  to: clip.path)
            // Small frames enlarged (nearest) to about 256 pixels, so a video of 32² frames can be
            // watched; the simulator's to the same width.
            let images = try recording.images.map { pair -> RGBImage in
                let model = try pair.model.scaled(by: Swift.max(1, 256 / Swift.max(pair.model.width, pair.model.height)))
                guard let truth = pair.simulator else { return model }
                return try RGBImage.grid([model, try truth.scaled(by: Swift.max(1, model.width / truth.width))], columns: 2)
            }
            try MP4Writer.write(images, fps: 10, to: video)
            try keepRecent()
            var replay = "nanowm rollout --checkpoint \(Self.quoted(world.checkpoint)) --input \(Self.quoted(clip.path)) --output replay.safetensors"
                + " --frames \(frames) --history \(world.history) --steps \(options.steps) --seed \(recording.seed)"
            if options.eta != 0 { replay += " --eta \(options.eta)" }
            if !options.cachedCausal { replay += " --no-cache" }
            return Recording(video: video, clip: clip, frames: frames, replay: replay)
        }
    }

    private func seededState(_ seed: UInt64) throws -> GeneratorStates {
        try GeneratorStates.preserving {
            try manualSeed(seed)
            return try GeneratorStates.capture()
        }
    }

    /// Drops what no longer matters outside a recording: all but the last `history` frames.
    private func keepRecent() throws {
        let (history, interval) = (world.history, world.frameInterval)
        let count = latents.shape[1]
        if count > history { latents = try latents.narrow(dim: 1, start: count - history, length: history) }
        if actions.count > history * interval { actions = Array(actions.suffix(history * interval)) }
    }

    /// Raw action rows as `[1, rows, dimension]` float32.
    private static func tensor(_ rows: [[Double]]) throws -> Tensor {
        try Tensor(rows.flatMap { $0.map(Float.init) }, shape: [1, rows.count, rows.first?.count ?? 0])
    }

    private static func quoted(_ path: String) -> String {
        path.allSatisfy { $0.isLetter || $0.isNumber || "/._-=+:,@%".contains($0) } ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private static let stamp: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter
    }()
}

extension PlayWorld {
    /// A new session starting from the world's start with `seed`.
    public func session(seed: UInt64) throws -> PlaySession {
        let session = try PlaySession(world: self, seed: seed)
        _ = try session.reset()
        return session
    }
}
