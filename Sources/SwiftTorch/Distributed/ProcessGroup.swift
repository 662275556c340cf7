import CTorchShim
import Foundation

/// A group of processes running the same program, over libtorch's c10d: a TCPStore for the
/// rendezvous and Gloo (CPU) or NCCL (CUDA builds) for the collectives. Every collective is
/// synchronous and bounded by `timeout`; a dead peer, a hung peer or a broken connection
/// becomes a `DistributedError.collective` that names this rank, the operation, and the rank
/// at fault when it can be told (see `diagnosis`).
public final class ProcessGroup {
    public enum Backend: String, CaseIterable, Sendable {
        case gloo, nccl
        var code: ctorch_dist_backend { self == .gloo ? CTORCH_BACKEND_GLOO : CTORCH_BACKEND_NCCL }
        /// Whether this libtorch build has the backend.
        public var isAvailable: Bool { ctorch_dist_backend_available(code) }
        /// The backend for tensors on `device`: NCCL for CUDA when built with it, else Gloo
        /// (which also reduces CUDA tensors, through host copies).
        public static func `for`(_ device: Device) -> Backend { device != .cpu && Backend.nccl.isAvailable ? .nccl : .gloo }
    }

    public enum Reduction: Sendable {
        case sum, average, max, min
        var code: ctorch_collective_op {
            switch self {
            case .sum: return CTORCH_COLLECTIVE_SUM
            case .average: return CTORCH_COLLECTIVE_AVG
            case .max: return CTORCH_COLLECTIVE_MAX
            case .min: return CTORCH_COLLECTIVE_MIN
            }
        }
    }

    public let launch: DistributedLaunch
    public let backend: Backend
    /// Seconds any one collective (and the rendezvous) may take.
    public let timeout: Double
    public var rank: Int { launch.rank }
    public var worldSize: Int { launch.worldSize }

    private let store: OpaquePointer
    let group: OpaquePointer
    /// Collectives issued so far; the count is announced in the store (`at/RANK`), so that when
    /// one fails the ranks that never reached it can be named. A store round trip costs as
    /// much as a small allreduce, and its wake-ups compete with Gloo's threads, so the count
    /// goes out off the collective's path and coalesced: the latest value at most every
    /// `Announcer.delay`. A diagnosis waits that long before reading the peers' counts.
    private var issued = 0
    private let announcer: Announcer
    private var peers: [Int: (host: String, pid: Int32)] = [:]

    /// Joins the group `launch` describes; waits up to `timeout` seconds for every rank.
    public init(_ launch: DistributedLaunch, backend: Backend = .gloo, timeout: Double = 1800) throws {
        guard backend.isAvailable else {
            throw DistributedError.rendezvous("the \(backend.rawValue) backend is not in this libtorch (nanowm doctor lists what it has)")
        }
        guard timeout > 0 else { throw DistributedError.badLaunch("the distributed timeout must be positive (got \(timeout) s)") }
        (self.launch, self.backend, self.timeout) = (launch, backend, timeout)
        let where_ = "rank \(launch.rank) of \(launch.worldSize) (\(launch.masterAddress):\(launch.masterPort))"
        var store: OpaquePointer?
        let isServer = launch.rank == 0 && !launch.agentHostsStore
        guard ctorch_store_tcp(launch.masterAddress, Int32(launch.masterPort), Int32(launch.worldSize), isServer,
                               Self.milliseconds(timeout), "nanowm/attempt\(launch.attempt)/", &store) == 0, let store else {
            throw DistributedError.rendezvous("\(where_): cannot reach the rendezvous store: \(Self.lastShimLine()); check MASTER_ADDR/MASTER_PORT and that every rank was started")
        }
        self.store = store
        announcer = Announcer(store: store, key: "at/\(launch.rank)")
        // "host pid WORLD_SIZE": lets the others name this process, and a launch whose ranks
        // disagree on the world size be named as such when the group cannot form.
        let me = "\(ProcessInfo.processInfo.hostName) \(getpid()) \(launch.worldSize)"
        var group: OpaquePointer?
        guard ctorch_store_set(store, "peer/\(launch.rank)", me) == 0 else {
            let line = Self.lastShimLine()
            ctorch_store_free(store)
            throw DistributedError.rendezvous("\(where_): cannot publish to the rendezvous store: \(line)")
        }
        // Rank 0 publishes first (it hosts the store): the others compare WORLD_SIZE with its
        // before waiting for a group that could never form.
        if launch.rank != 0, let text = Self.value(in: store, "peer/0", waiting: true) {
            let parts = text.split(separator: " ")
            if parts.count == 3, let size = Int(parts[2]), size != launch.worldSize {
                ctorch_store_free(store)
                throw DistributedError.rendezvous("\(where_): the ranks disagree on WORLD_SIZE: this one has \(launch.worldSize), rank 0 (pid \(parts[1])) has WORLD_SIZE=\(size); start every rank with the same WORLD_SIZE")
            }
        }
        guard ctorch_process_group_new(store, Int32(launch.rank), Int32(launch.worldSize), backend.code,
                                       Self.milliseconds(timeout), &group) == 0, let group else {
            let line = Self.lastShimLine()
            let mismatch = Self.worldSizeMismatch(store, launch, where_)
            ctorch_store_free(store)
            throw mismatch ?? DistributedError.rendezvous("\(where_): the \(backend.rawValue) process group did not form within \(Self.format(timeout)): \(line)")
        }
        // A peer started with a larger WORLD_SIZE can still complete this rank's smaller
        // group (and then waits for ranks that never come): the sizes are compared here too.
        if let mismatch = Self.worldSizeMismatch(store, launch, where_) {
            ctorch_process_group_free(group)
            ctorch_store_free(store)
            throw mismatch
        }
        self.group = group
        // Ranks of this program published themselves before the group formed (a peer of
        // another program may not have: then it cannot be named by its process).
        for peer in 0..<launch.worldSize where peer != launch.rank {
            if let text = storeValueIfPresent("peer/\(peer)") {
                let parts = text.split(separator: " ")
                if parts.count >= 2, let pid = Int32(parts[1]) { peers[peer] = (String(parts[0]), pid) }
            }
        }
    }

    deinit {
        announcer.waitUntilSent()
        ctorch_process_group_free(group)
        ctorch_store_free(store)
    }

    // MARK: - Collectives

    /// Reduces `tensor` in place across the group (average: the sum divided by the world size).
    public func allReduce(_ tensor: Tensor, _ reduction: Reduction = .sum) throws {
        try collective("allreduce") { ctorch_process_group_allreduce(group, tensor.handle, reduction.code, $0) }
    }

    /// Overwrites `tensor` on every rank with rank `root`'s.
    public func broadcast(_ tensor: Tensor, from root: Int = 0) throws {
        guard (0..<worldSize).contains(root) else { throw TorchError.invalidArgument("broadcast root \(root) is not a rank of a group of \(worldSize)") }
        try collective("broadcast") { ctorch_process_group_broadcast(group, tensor.handle, Int32(root), $0) }
    }

    /// Every rank's `tensor` (all of the same shape), stacked in rank order: `[worldSize, …]`.
    public func allGather(_ tensor: Tensor) throws -> Tensor {
        var out: OpaquePointer?
        try collective("allgather") { ctorch_process_group_allgather(group, tensor.handle, $0, &out) }
        return Tensor(owning: out!)
    }

    /// Returns when every rank has called it.
    public func barrier() throws {
        try collective("barrier") { ctorch_process_group_barrier(group, $0) }
    }

    private func collective(_ name: String, _ call: (Int64) -> Int32) throws {
        try collectives(name, count: 1) { call(Self.milliseconds(timeout)) }
    }

    /// Counts and announces `count` collectives as reached, then runs `call`, which completes
    /// them (a failing status: libtorch's message is diagnosed against the last of them).
    func collectives(_ name: String, count: Int, _ call: () -> Int32) throws {
        let first = issued + 1
        issued += count
        if count > 0 { announcer.announce("\(issued) \(name)") }
        guard call() != 0 else { return }
        let cause = Self.lastShimLine()
        let last = Swift.max(issued, first)
        let number = count > 1 ? "#\(first)–\(last)" : "#\(last)"
        throw DistributedError.collective("rank \(rank): \(name) \(number) failed: \(diagnosis(at: last)) [\(backend.rawValue): \(cause)]")
    }

    // MARK: - Naming the rank at fault

    /// Which peers are to blame for a failed collective: a peer on this host whose process is
    /// gone or stopped, else the peers whose announced collective count is behind ours (hung,
    /// or died before reaching it), else the store's host when the store itself is unreachable.
    func diagnosis(at count: Int) -> String {
        let host = ProcessInfo.processInfo.hostName
        let local = peers.keys.sorted().filter { peers[$0]!.host == host }
        // A killed peer's sockets close while the kernel is still tearing it down, so its
        // state may take a moment to read as gone: look for up to a second.
        for attempt in 0..<20 where !local.isEmpty {
            let states = local.compactMap { peer -> String? in
                switch Self.processState(peers[peer]!.pid) {
                case .gone: return "rank \(peer) (pid \(peers[peer]!.pid)) has exited"
                case .stopped: return "rank \(peer) (pid \(peers[peer]!.pid)) is stopped"
                case .running: return nil
                }
            }
            if !states.isEmpty { return states.joined(separator: ", ") }
            if attempt < 19 { usleep(50_000) }
        }
        usleep(useconds_t(2 * Announcer.delay * 1e6))  // the peers' last counts are in the store by now
        var behind: [String] = []
        for peer in 0..<worldSize where peer != rank {
            var present = false
            guard ctorch_store_check(store, "at/\(peer)", &present) == 0 else {
                return launch.agentHostsStore ? "the launcher's rendezvous store is unreachable"
                    : "rank 0 is unreachable (its rendezvous store is gone: it has probably exited)"
            }
            let reached = present ? storeValueIfPresent("at/\(peer)").flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0 : 0
            if reached < count { behind.append("rank \(peer) (it reached collective #\(reached), hung or slower than the \(Self.format(timeout)) timeout)") }
        }
        return behind.isEmpty ? "every rank reached it, so the connection to a peer broke" : behind.joined(separator: ", ")
    }

    /// The value of `key`, or nil when it is not in the store (never waits).
    private func storeValueIfPresent(_ key: String) -> String? { Self.value(in: store, key) }

    /// The ranks that published another WORLD_SIZE than this one's (any rank number they could
    /// have), as one error; nil when none did.
    private static func worldSizeMismatch(_ store: OpaquePointer, _ launch: DistributedLaunch, _ where_: String) -> DistributedError? {
        let disagreeing = (0..<(launch.worldSize + 16)).compactMap { peer -> String? in
            guard peer != launch.rank, let parts = value(in: store, "peer/\(peer)")?.split(separator: " "),
                  parts.count == 3, let size = Int(parts[2]), size != launch.worldSize else { return nil }
            return "rank \(peer) (pid \(parts[1])) has WORLD_SIZE=\(size)"
        }
        guard !disagreeing.isEmpty else { return nil }
        return .rendezvous("\(where_): the ranks disagree on WORLD_SIZE: this one has \(launch.worldSize), \(disagreeing.joined(separator: ", ")); start every rank with the same WORLD_SIZE")
    }

    /// The value of `key`, or nil when it is absent (`waiting`: once the store's timeout passed).
    private static func value(in store: OpaquePointer, _ key: String, waiting: Bool = false) -> String? {
        var present = false
        guard waiting || (ctorch_store_check(store, key, &present) == 0 && present) else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        var length = 0
        guard ctorch_store_get(store, key, &buffer, buffer.count, &length) == 0 else { return nil }
        return String(decoding: buffer.prefix(Swift.min(length, buffer.count)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    enum ProcessState { case running, stopped, gone }

    /// A local process's state: gone (no such pid, or a zombie its parent has not reaped yet),
    /// stopped (SIGSTOP, a debugger), or running.
    static func processState(_ pid: Int32) -> ProcessState {
        if kill(pid, 0) != 0 { return errno == ESRCH ? .gone : .running }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return .running }
        switch stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first {
        case "Z", "X": return .gone
        case "T", "t": return .stopped
        default: return .running
        }
    }

    static func milliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded(.up)) }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }

    /// libtorch's message, first line only, without Gloo's source location and advice, and
    /// bounded, so errors stay one line.
    static func lastShimLine() -> String {
        let message = TorchError.lastShimError().message
        var line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
        if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
            line = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
        }
        if let advice = line.range(of: ". This is typically caused") { line = String(line[..<advice.lowerBound]) }
        return line.count > 240 ? String(line.prefix(240)) + "…" : line
    }
}

/// Puts a rank's latest collective count into the store in the background, coalesced: one
/// write at most every `delay`, always of the newest value, so a burst of small collectives
/// costs one store round trip instead of one each.
private final class Announcer: @unchecked Sendable {
    static let delay = 0.05
    private let store: OpaquePointer
    private let key: String
    private let queue = DispatchQueue(label: "nanowm.process-group.announcements")
    private let sending = DispatchGroup()
    private let lock = NSLock()
    private var latest: String?
    private var scheduled = false

    init(store: OpaquePointer, key: String) { (self.store, self.key) = (store, key) }

    func announce(_ value: String) {
        lock.lock()
        latest = value
        let schedule = !scheduled
        scheduled = true
        lock.unlock()
        guard schedule else { return }
        sending.enter()
        queue.asyncAfter(deadline: .now() + Self.delay) { [self] in
            lock.lock()
            let value = latest
            scheduled = false
            lock.unlock()
            if let value { _ = ctorch_store_set(store, key, value) }
            sending.leave()
        }
    }

    /// Returns once no write is pending (before the store goes away).
    func waitUntilSent() { sending.wait() }
}
