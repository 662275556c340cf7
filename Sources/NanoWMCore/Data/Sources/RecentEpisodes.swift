import Foundation
import SwiftTorch

/// The last few episodes' stored frames, so that consecutive clips of one trajectory (the
/// exhaustive order visits every start of a trajectory in turn) read its file once. Safe to
/// use from the prefetching threads.
final class RecentEpisodes {
    private var entries: [(index: Int, frames: Tensor)] = []
    private let lock = NSLock()
    private let capacity: Int

    init(capacity: Int = 4) { self.capacity = capacity }

    func frames(_ index: Int, load: () throws -> Tensor) throws -> Tensor {
        lock.lock()
        if let hit = entries.first(where: { $0.index == index }) { lock.unlock(); return hit.frames }
        lock.unlock()
        let frames = try load()
        lock.lock()
        entries.removeAll { $0.index == index }
        entries.append((index, frames))
        if entries.count > capacity { entries.removeFirst() }
        lock.unlock()
        return frames
    }
}
