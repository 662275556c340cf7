import Foundation

/// Where this process sits in a multi-process job, read from the launcher's environment:
/// torchrun's contract (`MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`, `LOCAL_RANK`,
/// `LOCAL_WORLD_SIZE`), or SLURM's when started by `srun` (`SLURM_PROCID`, `SLURM_NTASKS`,
/// `SLURM_LOCALID`, the first host of `SLURM_NODELIST`).
public struct DistributedLaunch: Equatable, Sendable {
    public var masterAddress: String
    public var masterPort: Int
    public var rank: Int
    public var worldSize: Int
    public var localRank: Int
    /// Processes on this machine (for the CPU thread share); nil when the launcher does not say.
    public var localWorldSize: Int?
    /// torchrun hosts the rendezvous store in its agent; then no worker starts a server.
    public var agentHostsStore: Bool
    /// torchrun's restart count: each attempt uses fresh keys in the store.
    public var attempt: Int
    /// Which contract this came from, for messages.
    public var source: String

    public init(masterAddress: String, masterPort: Int, rank: Int, worldSize: Int, localRank: Int,
                localWorldSize: Int? = nil, agentHostsStore: Bool = false, attempt: Int = 0, source: String = "torchrun") {
        (self.masterAddress, self.masterPort, self.rank, self.worldSize) = (masterAddress, masterPort, rank, worldSize)
        (self.localRank, self.localWorldSize, self.agentHostsStore) = (localRank, localWorldSize, agentHostsStore)
        (self.attempt, self.source) = (attempt, source)
    }

    /// The launch this environment describes, or nil for a plain single process. torchrun's
    /// variables win over SLURM's (torchrun inside an srun allocation is the usual combination).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DistributedLaunch? {
        var reader = EnvironmentReader(environment: environment)
        if environment["RANK"] != nil || environment["WORLD_SIZE"] != nil {
            return try torchrun(&reader)
        }
        // srun sets SLURM_STEP_ID for the tasks it starts; a batch script or an salloc shell
        // also carries SLURM_NTASKS but is one process, which must not wait for peers.
        if environment["SLURM_PROCID"] != nil, environment["SLURM_STEP_ID"] != nil {
            return try slurm(&reader)
        }
        return nil
    }

    private static func torchrun(_ reader: inout EnvironmentReader) throws -> DistributedLaunch {
        let launch = DistributedLaunch(
            masterAddress: try reader.string("MASTER_ADDR"), masterPort: try reader.int("MASTER_PORT", in: 1...65535),
            rank: try reader.int("RANK", in: 0...), worldSize: try reader.int("WORLD_SIZE", in: 1...),
            localRank: try reader.optionalInt("LOCAL_RANK", in: 0...) ?? 0,
            localWorldSize: try reader.optionalInt("LOCAL_WORLD_SIZE", in: 1...),
            agentHostsStore: reader.environment["TORCHELASTIC_USE_AGENT_STORE"] == "True",
            attempt: try reader.optionalInt("TORCHELASTIC_RESTART_COUNT", in: 0...) ?? 0, source: "torchrun")
        return try launch.checked()
    }

    private static func slurm(_ reader: inout EnvironmentReader) throws -> DistributedLaunch {
        let tasks = try reader.optionalInt("SLURM_STEP_NUM_TASKS", in: 1...) ?? reader.int("SLURM_NTASKS", in: 1...)
        let nodes = reader.environment["SLURM_STEP_NODELIST"] ?? reader.environment["SLURM_NODELIST"] ?? reader.environment["SLURM_JOB_NODELIST"]
        guard let host = try reader.environment["MASTER_ADDR"] ?? nodes.map(firstHost) else {
            throw DistributedError.badLaunch("SLURM_NODELIST is not set: cannot tell which host runs rank 0 (set MASTER_ADDR)")
        }
        // Without MASTER_PORT, every task derives the same port from the job id (as Lightning does).
        let jobID = try reader.optionalInt("SLURM_JOB_ID", in: 0...) ?? 0
        let port = try reader.optionalInt("MASTER_PORT", in: 1...65535) ?? 15000 + jobID % 10000
        let launch = DistributedLaunch(
            masterAddress: host, masterPort: port, rank: try reader.int("SLURM_PROCID", in: 0...), worldSize: tasks,
            localRank: try reader.optionalInt("SLURM_LOCALID", in: 0...) ?? 0,
            localWorldSize: try reader.optionalInt("SLURM_NTASKS_PER_NODE", in: 1...), source: "SLURM")
        return try launch.checked()
    }

    private func checked() throws -> DistributedLaunch {
        guard rank < worldSize else {
            throw DistributedError.badLaunch("\(source): rank \(rank) is not below the world size \(worldSize)")
        }
        return self
    }

    /// The first host of a SLURM node list: `node[003-005,9],gpu1` → `node003`.
    public static func firstHost(_ list: String) throws -> String {
        let first = list.prefix { $0 != "," && $0 != "[" }
        guard !first.isEmpty else { throw DistributedError.badLaunch("SLURM_NODELIST '\(list)' names no host") }
        let rest = list.dropFirst(first.count)
        guard rest.first == "[" else { return String(first) }
        let range = rest.dropFirst().prefix { $0 != "," && $0 != "-" && $0 != "]" }
        guard !range.isEmpty, range.allSatisfy(\.isNumber) else {
            throw DistributedError.badLaunch("SLURM_NODELIST '\(list)' is not a node list this build can read")
        }
        return String(first) + range
    }

    /// An intra-op thread count for one of the processes on this machine: the machine's cores
    /// shared evenly (at least one each), so N local workers do not oversubscribe the CPU.
    public func cpuThreadShare(cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        Swift.max(1, cores / Swift.max(1, localWorldSize ?? 1))
    }
}

/// Reads and checks launcher variables, naming the variable when one is missing or malformed.
private struct EnvironmentReader {
    let environment: [String: String]

    func string(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw DistributedError.badLaunch("\(name) is not set: a multi-process launch needs MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE (torchrun sets them)")
        }
        return value
    }

    func int(_ name: String, in range: PartialRangeFrom<Int>) throws -> Int {
        try int(name, string(name), valid: range.contains, describe: "\(range.lowerBound) or more")
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int {
        try int(name, string(name), valid: range.contains, describe: "\(range.lowerBound)…\(range.upperBound)")
    }

    func optionalInt(_ name: String, in range: PartialRangeFrom<Int>) throws -> Int? {
        environment[name] == nil ? nil : try int(name, in: range)
    }

    func optionalInt(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        environment[name] == nil ? nil : try int(name, in: range)
    }

    private func int(_ name: String, _ text: String, valid: (Int) -> Bool, describe: String) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), valid(value) else {
            throw DistributedError.badLaunch("\(name)=\(text) is not a valid value (expected an integer \(describe))")
        }
        return value
    }
}
