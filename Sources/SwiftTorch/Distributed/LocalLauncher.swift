import CTorchShim
import Foundation

/// Starts N copies of this program on this machine as one data-parallel job, the way
/// `torchrun --standalone --nproc-per-node N` does: each worker gets torchrun's environment
/// contract (a free loopback port for the rendezvous, RANK, WORLD_SIZE, LOCAL_RANK,
/// LOCAL_WORLD_SIZE). When a worker fails, the others get `grace` seconds to notice on their
/// own (they stop with a line naming the rank), then are terminated; the launch then fails
/// naming the first worker that failed.
public struct LocalLauncher {
    public var workers: Int
    public var arguments: [String]
    public var executable: URL
    /// Seconds the other workers get to stop on their own after one fails.
    public var grace: Double = 5

    public init(workers: Int, arguments: [String], executable: URL? = nil) throws {
        guard workers >= 1 else { throw DistributedError.badLaunch("--nproc-per-node must be at least 1 (got \(workers))") }
        self.workers = workers
        self.arguments = arguments
        self.executable = executable ?? URL(fileURLWithPath: Self.currentExecutable())
    }

    /// Runs the workers to completion; throws when any of them failed.
    public func run() throws {
        let port = try Self.freePort()
        var processes: [Process] = []
        let finished = DispatchSemaphore(value: 0)
        for rank in 0..<workers {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = environment(rank: rank, port: port)
            process.terminationHandler = { _ in finished.signal() }
            do { try process.run() } catch {
                processes.forEach { $0.terminate() }
                throw DistributedError.badLaunch("cannot start worker rank \(rank) (\(executable.path)): \(error.localizedDescription)")
            }
            processes.append(process)
        }
        // The workers run in process groups of their own, so Ctrl-C (and a SIGTERM or SIGUSR1
        // to the launcher) reaches them through here: they agree to stop after the same step
        // and rank 0 saves. The launcher itself outlives them to report.
        let forwarding = StopSignalWatch { number in
            for process in processes where process.isRunning { kill(process.processIdentifier, number) }
        }
        defer { forwarding.cancel() }
        var failure: (rank: Int, process: Process)?
        for _ in 0..<workers {
            finished.wait()
            // After a stop signal the workers end non-zero by design, rank 0 last (it saves):
            // they are left to finish, never hurried.
            if failure == nil, forwarding.received == nil,
               let index = processes.firstIndex(where: { !$0.isRunning && !Self.succeeded($0) }) {
                failure = (index, processes[index])
                stopOthers(processes)
                break
            }
        }
        processes.forEach { $0.waitUntilExit() }
        if let signal = forwarding.received {
            throw StoppedBySignal(signal: signal, message: "stopped by \(StopSignalWatch.name(signal)): the workers saved and stopped; the same command (same run folder) continues the run")
        }
        if let failure {
            throw DistributedError.collective("worker rank \(failure.rank) (pid \(failure.process.processIdentifier)) \(Self.describe(failure.process)); the run stopped")
        }
        if let index = processes.firstIndex(where: { !Self.succeeded($0) }) {
            throw DistributedError.collective("worker rank \(index) \(Self.describe(processes[index])); the run stopped")
        }
    }

    /// Gives running workers `grace` seconds to stop on their own, then SIGTERM, then SIGKILL.
    private func stopOthers(_ processes: [Process]) {
        let deadline = Date().addingTimeInterval(grace)
        while processes.contains(where: \.isRunning) && Date() < deadline { usleep(50_000) }
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            kill(process.processIdentifier, SIGCONT)  // a stopped worker only acts on SIGTERM once running
        }
        let killAt = Date().addingTimeInterval(5)
        while processes.contains(where: \.isRunning) && Date() < killAt { usleep(50_000) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func environment(rank: Int, port: Int) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TORCHELASTIC_") }
        environment["MASTER_ADDR"] = "127.0.0.1"
        environment["MASTER_PORT"] = String(port)
        environment["RANK"] = String(rank)
        environment["LOCAL_RANK"] = String(rank)
        environment["WORLD_SIZE"] = String(workers)
        environment["LOCAL_WORLD_SIZE"] = String(workers)
        environment[Self.launcherVariable] = String(getpid())
        return environment
    }

    /// The launcher's pid, in its workers' environment: a worker whose parent is already
    /// another process started after its launcher died.
    public static let launcherVariable = "NANOWM_LAUNCHER_PID"

    /// Called first in a worker: it is sent SIGTERM (a stop request: agree, save, stop) when
    /// its parent — this launcher, torchrun or SLURM's step daemon — dies, even by SIGKILL, so
    /// no worker trains on as an orphan; and it stops at once if that already happened.
    public static func bindWorkerToParent(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        _ = ctorch_dist_die_with_parent(SIGTERM)
        if let launcher = environment[launcherVariable].flatMap(Int32.init), getppid() != launcher {
            throw DistributedError.badLaunch("the launcher (pid \(launcher)) is gone; this worker stops")
        }
    }

    static func succeeded(_ process: Process) -> Bool {
        process.terminationReason == .exit && process.terminationStatus == 0
    }

    static func describe(_ process: Process) -> String {
        process.terminationReason == .uncaughtSignal
            ? "was killed by signal \(process.terminationStatus) (\(String(cString: strsignal(process.terminationStatus))))"
            : "exited with status \(process.terminationStatus)"
    }

    /// A TCP port on the loopback interface that nothing listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DistributedError.badLaunch("cannot open a socket to find a free port (errno \(errno))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw DistributedError.badLaunch("cannot bind a loopback port for the rendezvous (errno \(errno))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// This program's own file (argv[0] may be a relative path or a bare name on PATH).
    static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}
