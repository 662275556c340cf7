import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMFormats
@testable import NanoWMCore

/// Background batches equal the batcher's own, step for step, whatever the threads' timing;
/// the queue stays bounded; a restart (resumed run) and a reader's error come through.
final class PrefetchingBatchesTests: XCTestCase {
    /// Clips whose frames are their index; reading sleeps a random while, so the producer's
    /// timing differs from run to run, and counts how many clips were read.
    final class JitteryClips: ClipDataset {
        let count = 23, clipLength = 2, actionDimension = 1, frameShape = [1, 1, 1]
        private let lock = NSLock()
        private var loads = 0
        var failAt: Int?
        var loaded: Int { lock.lock(); defer { lock.unlock() }; return loads }

        func clip(at index: Int) throws -> Clip {
            lock.lock(); loads += 1; lock.unlock()
            usleep(UInt32.random(in: 0...800))
            if index == failAt { throw DataError("clip \(index) is unreadable") }
            return Clip(frames: try Tensor.full([2, 1, 1, 1], .double(Double(index))),
                        actions: try Tensor.full([2, 1], .double(Double(-index))))
        }
    }

    func testSameBatchesAsTheBatcherInOrderAndBounded() throws {
        let clips = JitteryClips()
        let batcher = try ClipBatcher(dataset: clips, batchSize: 3, seed: 7)
        let prefetched = PrefetchingBatches(batcher, depth: 2)
        for step in Array(0..<12) + Array(30..<34) + [5, 6] { // a jump forward and one back restart it
            let (video, actions) = try prefetched.batch(atStep: step)
            let expected = try batcher.batch(atStep: step)
            try assertExactlyEqual(video, expected.video, "video at step \(step)")
            try assertExactlyEqual(actions, expected.actions, "actions at step \(step)")
        }
        // Nobody asks for more: the producer stops once `depth` batches wait.
        let before = clips.loaded
        usleep(100_000)
        XCTAssertLessThanOrEqual(clips.loaded - before, 2 * 3 + 3, "the queue is bounded")
        // Paused, it reads nothing more; asked again, it starts where it is asked.
        prefetched.pause()
        let paused = clips.loaded
        usleep(50_000)
        XCTAssertEqual(clips.loaded, paused)
        try assertExactlyEqual(try prefetched.batch(atStep: 40).video, try batcher.batch(atStep: 40).video, "after a pause")
    }

    func testReaderErrorsReachTheConsumer() throws {
        let clips = JitteryClips()
        let batcher = try ClipBatcher(dataset: clips, batchSize: 23, seed: 0)
        clips.failAt = 4
        assertOneLineError({ try PrefetchingBatches(batcher).batch(atStep: 0) }, mentions: ["clip 4 is unreadable"])
    }
}
