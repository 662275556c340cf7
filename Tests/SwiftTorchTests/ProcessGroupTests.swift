import Foundation
import TestSupport
import XCTest
@testable import SwiftTorch

/// Process groups over c10d on loopback: the launch contracts, collectives against PyTorch's
/// own `ProcessGroupGloo` as the other rank, a hung peer named within the timeout, and the
/// evaluation primitives (shares of an index list, sums, row gathers) between two ranks.
final class ProcessGroupTests: XCTestCase {
    // MARK: - Launch contracts

    func testTorchrunContract() throws {
        let launch = try XCTUnwrap(try DistributedLaunch.fromEnvironment([
            "MASTER_ADDR": "10.0.0.7", "MASTER_PORT": "29500", "RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1",
            "LOCAL_WORLD_SIZE": "4", "TORCHELASTIC_USE_AGENT_STORE": "True", "TORCHELASTIC_RESTART_COUNT": "2",
        ]))
        XCTAssertEqual(launch, DistributedLaunch(masterAddress: "10.0.0.7", masterPort: 29500, rank: 3, worldSize: 8, localRank: 1,
                                                 localWorldSize: 4, agentHostsStore: true, attempt: 2))
        XCTAssertEqual(launch.cpuThreadShare(cores: 16), 4)
        XCTAssertEqual(launch.cpuThreadShare(cores: 2), 1, "never below one thread")
        XCTAssertNil(try DistributedLaunch.fromEnvironment(["PATH": "/bin"]), "no launcher: a single process")
        assertOneLineError({ try DistributedLaunch.fromEnvironment(["RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "1"]) },
                           mentions: ["MASTER_ADDR is not set"])
        assertOneLineError({ try DistributedLaunch.fromEnvironment(["MASTER_ADDR": "h", "MASTER_PORT": "70000", "RANK": "0", "WORLD_SIZE": "2"]) },
                           mentions: ["MASTER_PORT=70000"])
        assertOneLineError({ try DistributedLaunch.fromEnvironment(["MASTER_ADDR": "h", "MASTER_PORT": "5", "RANK": "2", "WORLD_SIZE": "2"]) },
                           mentions: ["rank 2 is not below the world size 2"])
    }

    func testSlurmContract() throws {
        let launch = try XCTUnwrap(try DistributedLaunch.fromEnvironment([
            "SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_STEP_ID": "0", "SLURM_LOCALID": "1",
            "SLURM_NODELIST": "gpu[007-009,012],cpu1", "SLURM_JOB_ID": "123456", "SLURM_NTASKS_PER_NODE": "2",
        ]))
        XCTAssertEqual(launch.masterAddress, "gpu007")
        XCTAssertEqual(launch.masterPort, 15000 + 3456)
        XCTAssertEqual([launch.rank, launch.worldSize, launch.localRank, launch.localWorldSize], [5, 8, 1, 2])
        XCTAssertEqual(try DistributedLaunch.firstHost("nodeA,nodeB"), "nodeA")
        XCTAssertEqual(try DistributedLaunch.firstHost("n[3]"), "n3")
        // A batch script or salloc shell (no job step) is one process, whatever SLURM_NTASKS says.
        XCTAssertNil(try DistributedLaunch.fromEnvironment(["SLURM_PROCID": "0", "SLURM_NTASKS": "8"]))
        assertOneLineError({ try DistributedLaunch.firstHost("[1-2]") }, mentions: ["names no host"])
    }

    func testRankSharesCoverTheItemsInOrder() {
        for count in 0...9 {
            for worldSize in 1...4 {
                let ranges = (0..<worldSize).map { RankShare.range(count: count, rank: $0, worldSize: worldSize) }
                XCTAssertEqual(ranges.flatMap { Array($0) }, Array(0..<count), "\(count) items over \(worldSize) ranks")
                let sizes = ranges.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1)
            }
        }
    }

    // MARK: - Collectives against PyTorch

    /// Rank 1 is PyTorch's ProcessGroupGloo (the baseline worker, on a thread of its own);
    /// rank 0 is ours. Both see the same results, and those equal the values computed by
    /// hand (all exactly representable, so equality is exact).
    func testCollectivesAgreeWithTorchDistributed() throws {
        let port = try LocalLauncher.freePort()
        let peer = PythonPeer(port: port, body: """
        x = torch.tensor([0.25, 4.0, -1.0, 8.0]); pg.allreduce([x]).wait()
        y = torch.tensor([3.0, 1.0]); pg.allreduce([y]).wait(); y /= 2
        m = torch.tensor([5.0, -7.0]); o = dist.AllreduceOptions(); o.reduceOp = dist.ReduceOp.MAX; pg.allreduce([m], o).wait()
        b0 = torch.zeros(3); pg.broadcast([b0], root(0)).wait()
        b1 = torch.tensor([7.0, 8.0, 9.0]); pg.broadcast([b1], root(1)).wait()
        g = [torch.empty(2, 2), torch.empty(2, 2)]; pg.allgather([g], [torch.tensor([[10.0, 11.0], [12.0, 13.0]])]).wait()
        O['sum'], O['avg'], O['max'], O['b0'], O['b1'], O['gather'] = x, y, m, b0, b1, torch.stack(g)
        """)
        let group = try ProcessGroup(launch(port, rank: 0), timeout: 60)
        let sum = try Tensor([1.0, 2.0, 3.0, -4.0] as [Float]), average = try Tensor([1.0, 6.0] as [Float])
        let maximum = try Tensor([9.0, -8.0] as [Float]), first = try Tensor([1.5, 2.5, 3.5] as [Float])
        let second = try Tensor.zeros([3])
        try group.allReduce(sum, .sum)
        try group.allReduce(average, .average)
        try group.allReduce(maximum, .max)
        try group.broadcast(first, from: 0)
        try group.broadcast(second, from: 1)
        let gathered = try group.allGather(try Tensor([0.0, 1.0, 2.0, 3.0] as [Float], shape: [2, 2]))
        let python = try peer.finish()

        let expected: [(String, Tensor, [Float])] = [
            ("sum", sum, [1.25, 6, 2, 4]), ("avg", average, [2, 3.5]), ("max", maximum, [9, -7]),
            ("b0", first, [1.5, 2.5, 3.5]), ("b1", second, [7, 8, 9]), ("gather", gathered, [0, 1, 2, 3, 10, 11, 12, 13]),
        ]
        for (name, ours, values) in expected {
            XCTAssertEqual(try ours.toArray(Float.self), values, name)
            try assertExactlyEqual(ours, python[name], name)
        }
        XCTAssertEqual(gathered.shape, [2, 2, 2])
    }

    /// A peer that joined but never reaches the collective: ours fails after the timeout (not
    /// later than a generous margin: the point is that it never hangs) with one line naming
    /// this rank, the operation and the rank that did not arrive.
    func testHungPeerIsNamedWithinTheTimeout() throws {
        let port = try LocalLauncher.freePort()
        let peer = PythonPeer(port: port, body: "time.sleep(3)\nO['done'] = torch.tensor(1)")
        let group = try ProcessGroup(launch(port, rank: 0), timeout: 2)
        let start = Date()
        let error = assertOneLineError({ try group.allReduce(try Tensor([1.0] as [Float])) },
                                       mentions: ["rank 0: allreduce #1 failed", "rank 1 (it reached collective #0"])
        XCTAssertEqual(error.map { "\(type(of: $0))" }, "DistributedError")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2 + 20, "the failure must come with the timeout, not hang")
        _ = try peer.finish()
    }

    /// A peer of ours that stops after three collectives is named with the count it reached:
    /// its coalesced announcements are in the store by the time the failure is diagnosed.
    func testStalledPeerIsNamedWithTheCollectiveItReached() throws {
        _ = try TwoRanks.run(timeout: 2) { group in
            for _ in 0..<3 { try group.allReduce(try Tensor([1.0] as [Float])) }
            guard group.rank == 0 else { return Thread.sleep(forTimeInterval: 4) }
            assertOneLineError({ try group.allReduce(try Tensor([1.0] as [Float])) },
                               mentions: ["rank 0: allreduce #4 failed", "rank 1 (it reached collective #3,"])
        }
    }

    /// Two ranks started with different WORLD_SIZE (2 and 3) cannot form a group; each says
    /// so by name when the group fails to form within the timeout, not only that it did not.
    func testWorldSizeMismatchIsNamed() throws {
        let port = try LocalLauncher.freePort()
        let lock = NSLock()
        var second: Error?
        let thread = Thread {
            let launch = DistributedLaunch(masterAddress: "127.0.0.1", masterPort: port, rank: 1, worldSize: 3, localRank: 1)
            let outcome = Result { try ProcessGroup(launch, timeout: 3) }
            lock.lock(); if case .failure(let error) = outcome { second = error }; lock.unlock()
        }
        thread.start()
        let start = Date()
        assertOneLineError({ try ProcessGroup(launch(port, rank: 0), timeout: 3) },
                           mentions: ["rank 0 of 2", "disagree on WORLD_SIZE", "rank 1 (pid \(getpid())) has WORLD_SIZE=3"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 3 + 20)
        while !thread.isFinished { usleep(10_000) }
        lock.lock(); defer { lock.unlock() }
        XCTAssertTrue("\(second.map { "\($0)" } ?? "formed")".contains("WORLD_SIZE=2"), "\(String(describing: second))")
    }

    func testUnreachableStoreIsOneLine() throws {
        let port = try LocalLauncher.freePort()  // nothing listens there
        assertOneLineError({ try ProcessGroup(launch(port, rank: 1), timeout: 1) },
                           mentions: ["rank 1 of 2", "cannot reach the rendezvous store", "MASTER_ADDR/MASTER_PORT"])
    }

    // MARK: - Evaluation primitives between two ranks of ours

    /// Two ranks (threads of this process) split 5 items, compute their rows and sums, and
    /// gather: the result is the single-process matrix, rows in the original order. Then one
    /// item: rank 1 has no rows and passes an empty tensor that cannot know the row shape.
    func testSharesGatherBackToTheSingleProcessResult() throws {
        let items = Array(0..<5)
        func rows(_ items: [Int]) throws -> Tensor {
            items.isEmpty ? try Tensor.zeros([0]) : try Tensor(items.flatMap { [Float($0), Float($0 * $0)] }, shape: [items.count, 2])
        }
        let results = try TwoRanks.run { group in
            let mine = group.share(of: items)
            return (rows: try group.gatherRows(try rows(mine)), sums: try group.sum([Double(mine.count), Double(mine.reduce(0, +))]),
                    single: try group.gatherRows(try rows(group.share(of: [3]))))
        }
        for result in results {
            try assertExactlyEqual(result.rows, try rows(items), "gathered rows")
            XCTAssertEqual(result.sums, [5, 10])
            try assertExactlyEqual(result.single, try rows([3]), "one row, from rank 0 alone")
        }
    }

    /// Gradient averaging overlapped with backward, and the parameter broadcast, in flat
    /// buckets small enough to need several (and a parameter without a gradient, which
    /// contributes zeros and keeps none). Each rank runs two backward passes, the exchange armed
    /// for the second only (micro-batches: the first accumulates locally): every rank ends with
    /// the mean over ranks of its accumulated gradients, exactly (small integers), and with rank
    /// 0's values. The buckets whose gradients all arrive are launched by the backward pass
    /// itself; the one holding the unused parameter waits for `finish()`.
    func testOverlappedGradientAverageAndBroadcast() throws {
        let shapes = [[3], [2, 2], [5], [1]]
        func values(_ rank: Int, _ index: Int, _ shape: [Int], pass: Int = 0) -> [Float] {
            (0..<shape.reduce(1, *)).map { Float(rank * 100 + index * 10 + pass * 1000 + $0) }
        }
        let results = try TwoRanks.run { group -> (grads: [[Float]?], weights: [[Float]], buckets: [[Int]], early: Int) in
            let rank = group.rank
            let parameters = try shapes.enumerated().map { index, shape in
                try Tensor(values(rank, index, shape), shape: shape).requiresGrad_(true)
            }
            let exchange = try GradientExchange(group: group, parameters: parameters, capacityBytes: 32, firstCapacityBytes: 8)
            for pass in 0..<2 {
                if pass == 1 { try exchange.arm() }
                var loss = try Tensor.zeros([])
                for (index, parameter) in parameters.enumerated() where index != 1 {
                    loss = try loss + (parameter * Tensor(values(rank, index, shapes[index], pass: pass), shape: shapes[index])).sum()
                }
                try loss.backward()
            }
            try exchange.finish()
            try group.broadcast(parameters, from: 0, capacityBytes: 32)
            return (try parameters.map { try $0.grad?.toArray(Float.self) }, try parameters.map { try $0.detach().toArray(Float.self) },
                    exchange.buckets, exchange.launchedDuringBackward)
        }
        for result in results {
            XCTAssertEqual(result.buckets, [[3], [2], [1, 0]], "reverse order, a small first bucket")
            XCTAssertEqual(result.early, 2, "the backward pass launches the buckets whose gradients all arrived")
            for (index, shape) in shapes.enumerated() {
                let accumulated = (0..<2).map { rank in zip(values(rank, index, shape), values(rank, index, shape, pass: 1)).map { $0 + $1 } }
                let mean = zip(accumulated[0], accumulated[1]).map { ($0 + $1) / 2 }
                XCTAssertEqual(result.grads[index], index == 1 ? nil : mean, "gradient \(index)")
                XCTAssertEqual(result.weights[index], values(0, index, shape), "weights \(index)")
            }
        }
    }

    // MARK: - Helpers

    private func launch(_ port: Int, rank: Int) -> DistributedLaunch {
        DistributedLaunch(masterAddress: "127.0.0.1", masterPort: port, rank: rank, worldSize: 2, localRank: rank)
    }
}

/// Rank 1 of a two-rank group, played by PyTorch's `torch.distributed` in the baseline worker
/// on a background thread: it joins our store (same key prefix) with its own ProcessGroupGloo,
/// runs `body` (with `pg`, `dist`, `time` and `root(r)` for broadcast options) and returns `O`.
private final class PythonPeer {
    private let thread: Thread

    init(port: Int, body: String) {
        let code = """
        import datetime, time
        import torch.distributed as dist
        def root(r):
            o = dist.BroadcastOptions(); o.rootRank = r; return o
        timeout = datetime.timedelta(seconds=60)
        store = dist.PrefixStore('nanowm/attempt0/', dist.TCPStore('127.0.0.1', \(port), 2, False, timeout))
        pg = dist.ProcessGroupGloo(store, 1, 2, timeout)
        \(body)
        """
        var box: Result<[String: Tensor], Error>?
        let lock = NSLock()
        thread = Thread {
            let outcome = Result { try PyTorchBaseline.shared.run(code) }
            lock.lock(); box = outcome; lock.unlock()
        }
        thread.start()
        waitForResult = {
            while true {
                lock.lock(); let done = box; lock.unlock()
                if let done { return try done.get() }
                usleep(10_000)
            }
        }
    }

    private var waitForResult: () throws -> [String: Tensor] = { [:] }

    func finish() throws -> [String: Tensor] { try waitForResult() }
}
