import Foundation
import SwiftTorch
import NanoWMFormats

/// Clips of `clipLength` frames (every `frameSkip`-th frame) cut from stored trajectories.
/// With a frame skip, the actions between two kept frames are concatenated, as upstream
/// does (`action_dim × frame_interval`).
public final class TrajectoryDataset: ClipDataset {
    public let store: TrajectoryStore
    public let clipLength: Int
    public let frameSkip: Int
    public let episodes: [Int]
    /// When set, clips hold the codec's cached encoder output instead of pixel frames.
    public let latents: LatentCache?
    /// The split's clips this dataset holds, in this order (nil: all of them): a validation
    /// subset or the first `validation_size` clips, as upstream validates on them.
    public let selection: [Int]?
    private var cache: [Int: (frames: Tensor, actions: Tensor)] = [:]

    /// - Parameter episodes: which episodes belong to this split.
    public init(store: TrajectoryStore, episodes: [Int], clipLength: Int, frameSkip: Int = 1, latents: LatentCache? = nil,
                selection: [Int]? = nil) throws {
        let span = (clipLength - 1) * frameSkip + frameSkip
        guard span <= store.manifest.episodeLength else {
            throw DataError("clips of \(clipLength) frames with skip \(frameSkip) need episodes of \(span) frames; this dataset has \(store.manifest.episodeLength)")
        }
        self.store = store
        self.clipLength = clipLength
        self.frameSkip = frameSkip
        self.episodes = episodes
        self.latents = latents
        self.selection = selection
        if let outside = selection?.first(where: { !(0..<allCount).contains($0) }) {
            throw DataError("clip \(outside) is out of range 0..<\(allCount)")
        }
    }

    /// The same clips, holding the codec's cached encoder output `[F, K, h, w]` as their frames.
    public func reading(_ latents: LatentCache) throws -> TrajectoryDataset {
        try TrajectoryDataset(store: store, episodes: episodes, clipLength: clipLength, frameSkip: frameSkip, latents: latents,
                              selection: selection)
    }

    /// Only the split's clips at `indices` (positions in the whole split), in that order.
    public func selecting(_ indices: [Int]) throws -> TrajectoryDataset {
        try TrajectoryDataset(store: store, episodes: episodes, clipLength: clipLength, frameSkip: frameSkip, latents: latents,
                              selection: indices)
    }

    /// Every clip of the split, whatever the selection.
    public func unselected() throws -> TrajectoryDataset {
        selection == nil ? self : try TrajectoryDataset(store: store, episodes: episodes, clipLength: clipLength, frameSkip: frameSkip,
                                                        latents: latents)
    }

    /// Every clip of the split as upstream's slice (episode, first and past-the-end raw step),
    /// in clip order: what a fixed validation subset is drawn from and stored as.
    public var slices: [ClipSlice] {
        (0..<allCount).map { index in
            let (episode, start) = (episodes[index / startsPerEpisode], index % startsPerEpisode)
            return ClipSlice(trajectory: episode, start: start, end: start + clipLength * frameSkip)
        }
    }

    /// Train/validation split by episode: the last `validationFraction` are held out.
    public static func split(_ store: TrajectoryStore, clipLength: Int, frameSkip: Int = 1, validationFraction: Double = 0.1) throws -> (train: TrajectoryDataset, validation: TrajectoryDataset) {
        let total = store.manifest.episodes
        let held = Swift.max(1, Int((Double(total) * validationFraction).rounded()))
        guard total > held else { throw DataError("\(total) episodes are too few to hold out \(held) for validation") }
        return (try TrajectoryDataset(store: store, episodes: Array(0..<(total - held)), clipLength: clipLength, frameSkip: frameSkip),
                try TrajectoryDataset(store: store, episodes: Array((total - held)..<total), clipLength: clipLength, frameSkip: frameSkip))
    }

    private var startsPerEpisode: Int { store.manifest.episodeLength - clipLength * frameSkip + 1 }
    private var allCount: Int { episodes.count * startsPerEpisode }
    public var count: Int { selection?.count ?? allCount }
    public var actionDimension: Int { store.manifest.actionDimension * frameSkip }
    public var frameShape: [Int] { [3, store.manifest.resolution, store.manifest.resolution] }

    /// The episode and start step of clip `index` (upstream names evaluation clips by them).
    public func origin(of index: Int) -> (episode: Int, start: Int)? {
        guard index >= 0, index < count else { return nil }
        let position = selection?[index] ?? index
        return (episodes[position / startsPerEpisode], position % startsPerEpisode)
    }

    public func clip(at index: Int) throws -> Clip {
        guard let (episode, start) = origin(of: index) else { throw DataError("clip \(index) is out of range 0..<\(count)") }
        let data = try loaded(episode)
        let span = clipLength * frameSkip
        let frames: Tensor
        if let latents {
            frames = try encoderOutput(episode, latents).narrow(dim: 0, start: start, length: span).slice(dim: 0, step: frameSkip)
        } else {
            frames = try data.frames.narrow(dim: 0, start: start, length: span).slice(dim: 0, step: frameSkip)
                .permute(0, 3, 1, 2).to(.float32) / 255.0
        }
        let actions = try data.actions.narrow(dim: 0, start: start, length: span).reshape([clipLength, actionDimension])
        return Clip(frames: frames, actions: actions)
    }

    public func window(at index: Int, frames count: Int) throws -> (frames: Tensor, actions: Tensor)? {
        guard let (episode, start) = origin(of: index) else { throw DataError("clip \(index) is out of range 0..<\(self.count)") }
        let span = count * frameSkip
        guard latents == nil else { throw DataError("a latent-cache dataset holds no frames to roll out from") }
        guard start + span <= store.manifest.episodeLength else { return nil }
        let data = try loaded(episode)
        let frames = try data.frames.narrow(dim: 0, start: start, length: span).slice(dim: 0, step: frameSkip)
            .permute(0, 3, 1, 2).to(.float32) / 255.0
        return (frames, try data.actions.narrow(dim: 0, start: start, length: span))
    }

    private func loaded(_ episode: Int) throws -> (frames: Tensor, actions: Tensor) {
        if let hit = cache[episode] { return hit }
        let data = try store.episode(episode)
        cache[episode] = data
        return data
    }

    private var encoded: [Int: Tensor] = [:]

    private func encoderOutput(_ episode: Int, _ latents: LatentCache) throws -> Tensor {
        if let hit = encoded[episode] { return hit }
        let output = try latents.encoderOutput(episode: episode)
        encoded[episode] = output
        return output
    }
}
