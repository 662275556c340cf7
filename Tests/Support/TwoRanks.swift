import Foundation
import SwiftTorch

/// A two-rank process group on loopback inside the test process: rank 1 runs on a thread of
/// its own, rank 0 on the caller's. Threads share the global random generator, so work that
/// draws from it needs real processes instead.
public enum TwoRanks {
    /// Runs `work` as rank 0 and rank 1 of one group; returns their results in rank order.
    public static func run<Output>(timeout: Double = 60, _ work: @escaping (ProcessGroup) throws -> Output) throws -> [Output] {
        let port = try LocalLauncher.freePort()
        func rank(_ rank: Int) throws -> Output {
            let launch = DistributedLaunch(masterAddress: "127.0.0.1", masterPort: port, rank: rank, worldSize: 2, localRank: rank)
            return try work(try ProcessGroup(launch, timeout: timeout))
        }
        let lock = NSLock()
        var other: Result<Output, Error>?
        let thread = Thread {
            let outcome = Result { try rank(1) }
            lock.lock(); other = outcome; lock.unlock()
        }
        thread.start()
        let ours = Result { try rank(0) }
        while true {
            lock.lock(); let theirs = other; lock.unlock()
            if let theirs { return [try ours.get(), try theirs.get()] }
            usleep(10_000)
        }
    }
}
