import SwiftTorch
import NanoWMFormats

/// A training example: a window of consecutive frames and the actions taken at them.
public struct Clip {
    /// `[F, C, H, W]`, float32 in [0, 1].
    public var frames: Tensor
    /// `[F, A]`: `actions[k]` moves frame k to frame k+1 (the model sees it from frame k+1 on).
    public var actions: Tensor
}

/// The one interface every dataset (the built-in environment, DINO-WM, CSGO, RT-1) offers to
/// training, evaluation and planning.
public protocol ClipDataset {
    var count: Int { get }
    /// Frames per clip.
    var clipLength: Int { get }
    var actionDimension: Int { get }
    /// `[C, H, W]` of one frame.
    var frameShape: [Int] { get }
    func clip(at index: Int) throws -> Clip
    /// Where clip `index` starts (trajectory and raw step), for upstream's clip names
    /// `traj_<trajectory>_start_<start>`; nil where the dataset cannot say without drawing.
    func origin(of index: Int) -> (episode: Int, start: Int)?
    /// A window longer than a clip from clip `index`'s start, as upstream's rollout reads one:
    /// `frames` frames `[n, C, H, W]` in [0, 1] every frame interval, and the raw actions
    /// `[n·fi, a]` between them (normalised as the clips'); nil when the trajectory ends sooner.
    func window(at index: Int, frames: Int) throws -> (frames: Tensor, actions: Tensor)?
}

extension ClipDataset {
    public func origin(of index: Int) -> (episode: Int, start: Int)? { nil }
    public func window(at index: Int, frames: Int) throws -> (frames: Tensor, actions: Tensor)? {
        throw DataError("this dataset cannot give windows longer than its clips")
    }
}

/// Mini-batches `[B, F, C, H, W]` / `[B, F, A]` in a seeded order that is reshuffled every
/// epoch; the order depends only on the seed and the epoch, so a resumed run sees the same
/// batches as an uninterrupted one.
public struct ClipBatcher {
    public let dataset: ClipDataset
    public let batchSize: Int
    public let seed: UInt64

    public init(dataset: ClipDataset, batchSize: Int, seed: UInt64) throws {
        guard dataset.count > 0 else { throw DataError("the dataset is empty") }
        guard batchSize > 0 else { throw DataError("batch size must be positive (got \(batchSize))") }
        self.dataset = dataset
        self.batchSize = batchSize
        self.seed = seed
    }

    /// Full batches per epoch (a final partial batch is dropped, as upstream's loader does).
    public var batchesPerEpoch: Int { Swift.max(dataset.count / batchSize, 1) }

    /// The `step`-th batch of training (epochs follow one another).
    public func batch(atStep step: Int) throws -> (video: Tensor, actions: Tensor) {
        try stack(indices(atStep: step))
    }

    /// Block `share` of `shares` equal blocks of the `step`-th batch: a data-parallel rank's part
    /// of the global batch (the batch size is the global one, a multiple of `shares`).
    public func batch(atStep step: Int, share: Int, of shares: Int) throws -> (video: Tensor, actions: Tensor) {
        let indices = indices(atStep: step), size = indices.count / shares
        return try stack(Array(indices[(share * size)..<((share + 1) * size)]))
    }

    /// Dataset indices of the `step`-th batch.
    public func indices(atStep step: Int) -> [Int] {
        let epoch = step / batchesPerEpoch, position = step % batchesPerEpoch
        var random = SeededRandom(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        var order = Array(0..<dataset.count)
        order.shuffle(using: &random)
        return (0..<batchSize).map { order[(position * batchSize + $0) % order.count] }
    }

    /// `count` indices spread evenly over the dataset: a fixed, representative subset.
    public func evenlySpacedIndices(_ count: Int) -> [Int] {
        let n = Swift.min(count, dataset.count)
        return (0..<n).map { $0 * dataset.count / n }
    }

    /// Clips at fixed indices (validation subsets, evaluation).
    public func stack(_ indices: [Int]) throws -> (video: Tensor, actions: Tensor) {
        let clips = try indices.map { try dataset.clip(at: $0) }
        return (try Tensor.stack(clips.map(\.frames)), try Tensor.stack(clips.map(\.actions)))
    }
}
