import Foundation
import SwiftTorch
import NanoWMFormats

/// Clips of a recorded dataset exactly as upstream's `WorldModelDataset` makes them, for every
/// on-disk format behind `TrajectorySource`: slices of `T·fi` raw steps in the split's order,
/// actions normalised per raw dimension and chunked to `[T, fi·a]`, frames every fi steps
/// resized (bilinear, no antialias) to the model's image size. `Clip.frames` are in [0, 1];
/// upstream's item is `frames·2 − 1` (see `item(at:)`).
public final class WorldModelDataset: ClipDataset {
    public enum ResizeMode: String, Sendable { case stretch, pad }

    /// How items are cut: a fixed list of slices, or a fresh random start per item.
    public enum Slicing {
        case slices([ClipSlice])
        case random(RandomClipSampler)
    }

    public let source: TrajectorySource
    public let split: TrajectorySplit
    /// The split's trajectories in upstream's (shuffled) order.
    public let trajectories: [Int]
    public let slicing: Slicing
    public let clipLength: Int
    public let frameInterval: Int
    /// `(H, W)` of the frames given out.
    public let imageSize: (height: Int, width: Int)
    public let resize: ResizeMode
    /// Raw per-dimension statistics when actions are normalised; nil when used as recorded.
    public let statistics: ActionStatistics?
    /// At most this many items (upstream's `validation_size` truncation); nil for all.
    public let limit: Int?

    public init(source: TrajectorySource, split: TrajectorySplit, trajectories: [Int], slicing: Slicing, clipLength: Int,
                frameInterval: Int, imageSize: (height: Int, width: Int), resize: ResizeMode = .stretch,
                statistics: ActionStatistics?, limit: Int? = nil) {
        self.source = source
        self.split = split
        self.trajectories = trajectories
        self.slicing = slicing
        self.clipLength = clipLength
        self.frameInterval = frameInterval
        self.imageSize = imageSize
        self.resize = resize
        self.statistics = statistics
        self.limit = limit
    }

    /// The same dataset with other slices or another limit (fixed subsets, truncation).
    public func with(slicing: Slicing? = nil, limit: Int?) -> WorldModelDataset {
        WorldModelDataset(source: source, split: split, trajectories: trajectories, slicing: slicing ?? self.slicing,
                          clipLength: clipLength, frameInterval: frameInterval, imageSize: imageSize, resize: resize,
                          statistics: statistics, limit: limit)
    }

    /// Raw steps one clip spans.
    public var requiredSteps: Int { clipLength * frameInterval }

    public var count: Int {
        let all: Int
        switch slicing {
        case .slices(let slices): all = slices.count
        case .random: all = trajectories.count // one clip per trajectory, too-short ones included, as upstream
        }
        return limit.map { Swift.min($0, all) } ?? all
    }

    public var actionDimension: Int { source.actionDimension * frameInterval }
    public var frameShape: [Int] { [3, imageSize.height, imageSize.width] }

    /// The slices of an exhaustive dataset (nil in random mode).
    public var slices: [ClipSlice]? {
        guard case .slices(let all) = slicing else { return nil }
        return Array(all.prefix(count))
    }

    /// Where item `index` comes from; in random mode this draws the next start.
    /// Exhaustive slices only: a random-mode item's start is a draw, made when the clip is read.
    public func origin(of index: Int) -> (episode: Int, start: Int)? {
        guard case .slices(let slices) = slicing, slices.indices.contains(index) else { return nil }
        return (slices[index].trajectory, slices[index].start)
    }

    public func slice(at index: Int) throws -> ClipSlice {
        guard index >= 0, index < count else {
            throw DataError("\(source.location): clip \(index) is out of range 0..<\(count) of the \(split.rawValue) split")
        }
        switch slicing {
        case .slices(let slices): return slices[index]
        case .random(let sampler): return try sampler.slice(forItem: index)
        }
    }

    public func clip(at index: Int) throws -> Clip {
        let item = try load(try slice(at: index))
        return Clip(frames: item.frames, actions: item.actions)
    }

    /// Upstream's item pieces for one slice: frames `[T, 3, H, W]` in [0, 1] (resized),
    /// actions `[T, fi·a]` (normalised when statistics are set) and states `[T, S]`.
    public func load(_ slice: ClipSlice) throws -> (frames: Tensor, actions: Tensor, states: Tensor) {
        let record = try source.finiteTrajectory(slice.trajectory)
        guard slice.end <= record.length else {
            throw DataError("\(source.location): trajectory \(slice.trajectory) has \(record.length) steps, fewer than the clip's \(slice.start)..<\(slice.end)")
        }
        var actions = try record.actions.narrow(dim: 0, start: slice.start, length: slice.end - slice.start)
        if let statistics { actions = try (actions - statistics.mean) / statistics.std }
        actions = try actions.reshape([clipLength, -1])
        let states = try record.states.slice(dim: 0, start: slice.start, end: slice.end, step: frameInterval)
            .narrow(dim: 0, start: 0, length: clipLength)
        let frames = try source.frames(slice.trajectory, start: slice.start, end: slice.end, step: frameInterval)
        try source.requireFinite(frames: frames, trajectory: slice.trajectory, start: slice.start, step: frameInterval)
        return (try resized(frames.narrow(dim: 0, start: 0, length: clipLength)), actions, states)
    }

    public func window(at index: Int, frames count: Int) throws -> (frames: Tensor, actions: Tensor)? {
        let slice = try slice(at: index)
        let record = try source.finiteTrajectory(slice.trajectory)
        let end = slice.start + count * frameInterval
        guard end <= record.length else { return nil }
        var actions = try record.actions.narrow(dim: 0, start: slice.start, length: count * frameInterval)
        if let statistics { actions = try (actions - statistics.mean) / statistics.std }
        return (try resized(try source.frames(slice.trajectory, start: slice.start, end: end, step: frameInterval)), actions)
    }

    /// Upstream's resize: `stretch` is bilinear to the target (align_corners false, no
    /// antialias); `pad` scales to fit, then pads with black, top/left getting the smaller half.
    func resized(_ frames: Tensor) throws -> Tensor {
        let height = frames.shape[2], width = frames.shape[3]
        guard (height, width) != imageSize else { return frames }
        switch resize {
        case .stretch:
            return try frames.interpolate(size: [imageSize.height, imageSize.width], mode: .bilinear, alignCorners: false)
        case .pad:
            let scale = Swift.min(Double(imageSize.height) / Double(height), Double(imageSize.width) / Double(width))
            let newHeight = Int(Double(height) * scale), newWidth = Int(Double(width) * scale)
            let scaled = try frames.interpolate(size: [newHeight, newWidth], mode: .bilinear, alignCorners: false)
            let padHeight = imageSize.height - newHeight, padWidth = imageSize.width - newWidth
            return try scaled.pad([padWidth / 2, padWidth - padWidth / 2, padHeight / 2, padHeight - padHeight / 2], value: 0)
        }
    }

    /// The statistics the model's action rows are normalised with, tiled to `[fi·a]`.
    public func chunkedStatistics() throws -> ActionStatistics? { try statistics?.tiled(frameInterval) }
}
