import Foundation
import SwiftTorch
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// What `nanowm play` serves: one trained world model that every session (a browser tab)
/// shares, sampled one frame at a time with a sliding context as `nanowm rollout` samples, with
/// the run's codec to show frames, a key map for actions, and where sessions start.
public final class PlayWorld {
    /// Where a session's context comes from.
    public enum Start: Equatable, Sendable, CustomStringConvertible {
        /// The built-in wall's rendered start: a random position (from the session's seed) held
        /// still for the context frames, with the true simulator beside the model.
        case environment
        /// The first context frames and their actions of validation clip N of the run's dataset.
        case validationClip(Int)
        /// The first context frames of a video (or safetensors `frames` in [−1, 1]) through the
        /// run's codec, held at the rest action.
        case video(String)

        /// `start`, `val:N`, or a video file.
        public init(parsing text: String) throws {
            if text == "start" { self = .environment; return }
            if text.hasPrefix("val:"), let index = Int(text.dropFirst(4)), index >= 0 { self = .validationClip(index); return }
            if FileManager.default.fileExists(atPath: text) { self = .video(text); return }
            throw ConfigError(.invalidValue, "--context '\(text)': use start (the built-in environment's start), val:N (validation clip N) or a video file")
        }

        public var description: String {
            switch self {
            case .environment: return "the built-in wall's start"
            case .validationClip(let index): return "validation clip \(index)"
            case .video(let path): return "the video \(path)"
            }
        }
    }

    public let model: NanoWMModel
    public let pixels: PixelSpace
    public let configuration: RunConfiguration
    public let checkpoint: String
    public let setup: SamplingSetup
    public let device: Device
    /// Context frames the model sees before each new frame.
    public let history: Int
    /// Raw actions per frame (the model's action is this many per-step actions).
    public let frameInterval: Int
    public let actionMap: ActionMap
    public let start: Start
    /// Where recordings go (made at the first one).
    public let recordings: URL
    let rollout: SlidingWindowRollout
    /// The built-in environment's settings: its start and the simulator beside the model.
    let wall: BuiltinDatasetSettings?
    private let queue = DispatchQueue(label: "nanowm.play.model")

    public init(checkpoint: TrainedCheckpoint, model: NanoWMModel, device: Device, setup: SamplingSetup, start: Start?,
                history: Int?, actionMap: URL?, recordings: URL) throws {
        guard let configuration = checkpoint.configuration else {
            throw ConfigError(.missingConfig, "play needs the checkpoint's training config.yaml for its codec, dataset and actions (none at or above \(checkpoint.path); give --config FILE)")
        }
        guard model.config.useAction, let actionWidth = model.config.actionDim else {
            throw ConfigError(.invalidValue, "\(checkpoint.path) is not action-conditioned (model.use_action false): there is nothing to play")
        }
        guard setup.options.mode == .sequential else {
            throw ConfigError(.invalidValue, "play generates one frame at a time: use --mode sequential (got \(setup.options.mode))")
        }
        let window = model.config.numFrames
        let kept = history ?? Swift.min(4, window - 1)
        guard kept >= 1, kept < window else {
            throw ConfigError(.invalidValue, "--history \(kept) must be at least 1 and less than the model's \(window)-frame window")
        }
        frameInterval = configuration.dataset.frameInterval
        guard actionWidth % frameInterval == 0 else {
            throw ConfigError(.invalidValue, "the model's \(actionWidth)-D action is not frame_interval \(frameInterval) per-step actions")
        }
        let pixels = try configuration.pixelSpace(checkpoint: checkpoint.path, device: device)
        guard pixels.codec.hasDecoder else { throw ConfigError(.invalidValue, "the run's codec cannot decode latents to pixels, so frames cannot be shown") }
        wall = configuration.dataset.builtin
        let dimension = actionWidth / frameInterval
        if let actionMap {
            self.actionMap = try ActionMap.load(actionMap, dimension: dimension)
        } else if let wall {
            self.actionMap = .wall(scale: ActionMap.wallScale(episodes: wall.trajectories, length: wall.trajectoryLength, seed: UInt64(wall.seed)))
        } else {
            throw ConfigError(.invalidValue, "dataset '\(configuration.dataset.name)' has no built-in key map: give --action-map FILE (JSON: {\"rest\": [\(dimension) values], \"keys\": {\"KeyW\": [...], ...}})")
        }
        let chosen = start ?? (wall != nil ? .environment : .validationClip(0))
        if chosen == .environment && wall == nil {
            throw ConfigError(.invalidValue, "--context start needs the built-in wall dataset; use --context val:N for '\(configuration.dataset.name)'")
        }
        (self.model, self.pixels, self.configuration, self.checkpoint, self.setup, self.device) = (model, pixels, configuration, checkpoint.path, setup, device)
        (self.history, self.start, self.recordings) = (kept, chosen, recordings)
        rollout = try SlidingWindowRollout(process: try setup.make(device: device).process, options: setup.options, window: window, history: kept)
    }

    /// Runs `body` alone: sessions share the model and the global generator.
    func exclusive<T>(_ body: () throws -> T) rethrows -> T { try queue.sync(execute: body) }

    /// The first context of a session: latents `[1, history, C, h, w]`, their raw actions
    /// (`history · frameInterval` rows), the images shown for them (decoded, as the model sees
    /// them, and the simulator's renders for the built-in start), and the simulator placed
    /// after them (the built-in start only).
    func context(seed: UInt64) throws -> (latents: Tensor, actions: [[Double]], images: [(model: RGBImage, simulator: RGBImage?)],
                                          simulator: WallEnvironment?) {
        switch start {
        case .environment:
            guard let wall else { throw ConfigError(.invalidValue, "the built-in start needs the built-in wall dataset") }
            var random = SeededRandom(seed: seed)
            let layout = WallEnvironment.Layout()
            var simulator = WallEnvironment(layout: layout, resolution: wall.resolution, start: WallEnvironment.randomStart(layout, using: &random))
            var frames: [Tensor] = [], actions: [[Double]] = []
            for _ in 0..<history {
                frames.append(try Tensor(simulator.pixelBytes(), shape: [wall.resolution, wall.resolution, 3]).permute(2, 0, 1))
                for _ in 0..<frameInterval { actions.append(actionMap.rest) }
                try simulator.step(actionMap.rest)
            }
            let clip = try Tensor.stack(frames).to(.float32).unsqueeze(0) / 255.0
            let latents = try encode(clip)
            let images = zip(try pixels.images(try latents.squeeze(0)), try RGBImage.frames(from: try clip.squeeze(0)))
            return (latents, actions, images.map { ($0, $1) }, simulator)
        case .validationClip(let index):
            let validation = try configuration.datasets().validation
            guard index < validation.count else {
                throw ConfigError(.invalidValue, "--context val:\(index): the validation split has \(validation.count) clips (0..<\(validation.count))")
            }
            guard let window = try validation.window(at: index, frames: history) else {
                throw DataError("validation clip \(index) has no \(history) frames from its start")
            }
            let rows = try window.actions.to(.float64).contiguous().toArray(Double.self)
            let width = window.actions.shape[1]
            let actions = stride(from: 0, to: rows.count, by: width).map { Array(rows[$0..<($0 + width)]) }
            let latents = try encode(try window.frames.unsqueeze(0))
            return (latents, actions, try pixels.images(try latents.squeeze(0)).map { ($0, nil) }, nil)
        case .video(let path):
            guard let frames = try pixels.frames(of: path) else {
                throw DataError("\(path): holds latents (context), not frames; give a video or safetensors frames [1, K, 3, H, W] in [−1, 1]")
            }
            guard frames.shape[1] >= history else {
                throw DataError("\(path): \(frames.shape[1]) frames; the game needs \(history) context frames (lower --history)")
            }
            let first = try frames.narrow(dim: 0, start: 0, length: 1).narrow(dim: 1, start: 0, length: history)
            let latents = try pixels.encode(try first.to(device), for: model.config)
            let actions = Array(repeating: actionMap.rest, count: history * frameInterval)
            return (latents, actions, try pixels.images(try latents.squeeze(0)).map { ($0, nil) }, nil)
        }
    }

    /// Frames `[1, K, 3, H, W]` in [0, 1] to the model's latents.
    private func encode(_ frames: Tensor) throws -> Tensor {
        try pixels.encode(try frames.to(device) * 2.0 - 1.0, for: model.config)
    }
}
