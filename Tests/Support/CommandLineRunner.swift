import Foundation

/// Runs the `nanowm` executable built beside the test bundle, as a user would, and measures
/// what the run used: its peak resident memory and CPU time come from `wait4`, so they are
/// the child's, not a total over every process the tests started.
public enum NanoWMExecutable {
    public struct Result {
        /// The exit status, or the number of the signal that ended the process.
        public let status: Int32
        public let output: String
        public let error: String
        /// The signal that ended the process, if one did.
        public let signal: Int32?
        /// The kernel's ru_maxrss for the process: an upper bound on its peak resident memory.
        /// Linux carries the high-water mark across exec, and posix_spawn starts the child in
        /// the test process's memory, so the figure is at least the test process's own resident
        /// size at the spawn (about 200-300 MB here); a bound below 2 GB on it holds for nanowm.
        public let peakMemoryBytes: Int
        /// User plus system CPU time, over all of its threads.
        public let cpuSeconds: Double
        /// Set when the hang guard killed it.
        public let hung: Bool
    }

    /// Limits for a run of hostile input: issue #28's bound is 10 s and 2 GB. The CPU limit is
    /// the kernel's (RLIMIT_CPU: SIGXCPU ends the process), so a slow or loaded machine does not
    /// make the test fail the way a wall-clock limit would; memory is checked after the run by
    /// the caller; a process blocked without using CPU (a FIFO opened for reading) is killed by
    /// the hang guard after `hangSeconds` of wall time.
    public struct Limits {
        public var cpuSeconds: Int
        public var hangSeconds: Double
        public init(cpuSeconds: Int = 10, hangSeconds: Double = 60) {
            self.cpuSeconds = cpuSeconds
            self.hangSeconds = hangSeconds
        }
        public static let hostileInput = Limits()
        public static let memoryBytes = 2 << 30
    }

    public static var url: URL {
        let products = Bundle.allBundles.map(\.bundleURL).first { $0.pathExtension == "xctest" }?.deletingLastPathComponent()
            ?? PyTorchBaseline.repositoryRoot.appendingPathComponent(".build/debug")
        return products.appendingPathComponent("nanowm")
    }

    public static func run(_ arguments: [String], environment: [String: String] = [:], limits: Limits? = nil) throws -> Result {
        // A shell sets the directory and the CPU limit, then execs nanowm in its place, so the
        // process waited for is nanowm itself.
        // The soft limit sends SIGXCPU; the hard one (a second later) SIGKILL, for a process
        // that ignores the first.
        let limit = limits.map { "ulimit -S -t \($0.cpuSeconds) && ulimit -H -t \($0.cpuSeconds + 1) && " } ?? ""
        let argv = ["/bin/sh", "-c", "cd \"$1\" && shift && \(limit)exec \"$@\"", "sh",
                    PyTorchBaseline.repositoryRoot.path, url.path] + arguments
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }

        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }

        let cArgv = argv.map { strdup($0) } + [nil], cEnv = env.map { strdup($0) } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, cArgv, cEnv)
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw POSIXError(.init(rawValue: spawned) ?? .EIO)
        }

        // Both pipes are drained while the process runs, so neither can fill up and block it.
        let errorReader = PipeReader(errPipe[0])
        let finished = Atomic()
        let hung = Atomic()
        if let limits {
            DispatchQueue.global().asyncAfter(deadline: .now() + limits.hangSeconds) {
                if !finished.value { hung.set(); kill(pid, SIGKILL) }
            }
        }
        let output = FileHandle(fileDescriptor: outPipe[0], closeOnDealloc: true).readDataToEndOfFile()
        var status: Int32 = 0, usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        finished.set()
        let error = errorReader.finish()

        let signalled = (status & 0x7F) != 0
        let signal: Int32? = signalled ? status & 0x7F : nil
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return Result(status: signal ?? ((status >> 8) & 0xFF), output: String(decoding: output, as: UTF8.self),
                      error: String(decoding: error, as: UTF8.self), signal: signal,
                      peakMemoryBytes: usage.ru_maxrss * 1024, cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime),
                      hung: hung.value)
    }

    /// Reads a pipe to its end on a thread of its own.
    private final class PipeReader: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ descriptor: Int32) {
            Thread {
                self.data = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true).readDataToEndOfFile()
                self.done.signal()
            }.start()
        }

        func finish() -> Data {
            done.wait()
            return data
        }
    }

    private final class Atomic: @unchecked Sendable {
        private let lock = NSLock()
        private var flag = false
        var value: Bool { lock.withLock { flag } }
        func set() { lock.withLock { flag = true } }
    }
}
