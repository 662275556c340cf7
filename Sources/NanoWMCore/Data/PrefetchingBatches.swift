import Foundation
import SwiftTorch

/// Training batches made ahead on one background thread, so decoding and resizing overlap
/// the model's step. At most `depth` batches wait in the queue. The producer makes steps in
/// order with the batcher's own, step-determined order, and the consumer takes exactly the step
/// it asks for, so what training sees does not depend on thread timing; asking for a step out
/// of sequence (a resumed run) restarts the producer there.
public final class PrefetchingBatches {
    public typealias Batch = (video: Tensor, actions: Tensor)

    public let batcher: ClipBatcher
    /// This process's block of each global batch (`share` of `shares`; 0 of 1 alone).
    public let share: Int, shares: Int
    public let depth: Int
    private let queue: Queue

    /// State shared with the producer thread (which never holds the outer object, so
    /// releasing it stops the thread).
    private final class Queue {
        let condition = NSCondition()
        var ready: [Int: Result<Batch, Error>] = [:]
        /// The next step the producer makes and the next the consumer is expected to ask for.
        var next = 0, expected = -1
        /// Bumped by a restart, so a batch made for the old sequence is dropped.
        var generation = 0
        var stopped = false, started = false, running = false
    }

    public init(_ batcher: ClipBatcher, share: Int = 0, of shares: Int = 1, depth: Int = 2) {
        self.batcher = batcher
        (self.share, self.shares) = (share, shares)
        self.depth = Swift.max(depth, 1)
        queue = Queue()
    }

    deinit {
        queue.condition.lock()
        queue.stopped = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    /// Stops the producer and waits until it has left the dataset alone, so other code may
    /// read the same dataset afterwards; a later `batch(atStep:)` starts it again.
    public func pause() {
        let queue = self.queue
        queue.condition.lock()
        defer { queue.condition.unlock() }
        queue.stopped = true
        queue.condition.broadcast()
        while queue.running { queue.condition.wait() }
        (queue.stopped, queue.started, queue.ready, queue.expected) = (false, false, [:], -1)
    }

    /// The batch `batcher.batch(atStep: step, share: share, of: shares)` gives, made ahead of time.
    public func batch(atStep step: Int) throws -> Batch {
        let queue = self.queue
        queue.condition.lock()
        defer { queue.condition.unlock() }
        if step != queue.expected {
            queue.generation += 1
            queue.ready = [:]
            queue.next = step
            queue.condition.broadcast()
        }
        if !queue.started { start() }
        queue.expected = step + 1
        while queue.ready[step] == nil { queue.condition.wait() }
        let result = queue.ready.removeValue(forKey: step)!
        queue.condition.broadcast() // room for the next batch
        return try result.get()
    }

    private func start() {
        (queue.started, queue.running) = (true, true)
        let (queue, batcher, depth, share, shares) = (self.queue, self.batcher, self.depth, self.share, self.shares)
        let thread = Thread {
            while true {
                queue.condition.lock()
                while !queue.stopped && queue.ready.count >= depth { queue.condition.wait() }
                if queue.stopped {
                    queue.running = false
                    queue.condition.broadcast()
                    queue.condition.unlock()
                    return
                }
                let (step, generation) = (queue.next, queue.generation)
                queue.next += 1
                queue.condition.unlock()
                let result = Result { try batcher.batch(atStep: step, share: share, of: shares) }
                queue.condition.lock()
                if generation == queue.generation { queue.ready[step] = result }
                queue.condition.broadcast()
                queue.condition.unlock()
            }
        }
        thread.name = "nanowm-prefetch"
        thread.start()
    }
}
