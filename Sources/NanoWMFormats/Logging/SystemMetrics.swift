import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Samples the machine's load as scalars for a `MetricsLogger`:
///
/// - `system/cpu_percent`: all CPUs' busy share since the previous sample (Linux `/proc/stat`), 0–100;
/// - `system/process_cpu_percent`: this process's user + system CPU time over wall time since
///   the previous sample (`getrusage`), 100 per fully busy core;
/// - `system/rss_mb`: this process's resident memory (`/proc/self/statm`), MiB;
/// - `system/ram_used_percent`: the machine's memory in use (`/proc/meminfo`, total − available);
/// - `system/gpu_memory_mb`: what the `gpuMemoryBytes` hook reports, when set and non-nil
///   (nil on CPU; a CUDA build can report its allocator's bytes here).
///
/// Sources a platform lacks are left out of the sample. The first sample measures from `init`.
public final class SystemMetrics: @unchecked Sendable {
    /// Bytes of GPU memory in use, or nil where there is no GPU.
    public var gpuMemoryBytes: (() -> Double?)?

    private let lock = NSLock()
    private var lastCPU: (busy: Double, total: Double)?
    private var lastProcessCPU: Double
    private var lastWall: Date

    public init(gpuMemoryBytes: (() -> Double?)? = nil) {
        self.gpuMemoryBytes = gpuMemoryBytes
        lastCPU = Self.systemCPUTicks()
        lastProcessCPU = Self.processCPUSeconds()
        lastWall = Date()
    }

    /// One sample, keyed by the names above.
    public func sample() -> [String: Double] {
        lock.lock()
        defer { lock.unlock() }
        var out: [String: Double] = [:]
        let now = Date()
        if let cpu = Self.systemCPUTicks() {
            if let last = lastCPU, cpu.total > last.total {
                out["system/cpu_percent"] = 100 * (cpu.busy - last.busy) / (cpu.total - last.total)
            }
            lastCPU = cpu
        }
        let processCPU = Self.processCPUSeconds()
        let wall = now.timeIntervalSince(lastWall)
        if wall > 0 { out["system/process_cpu_percent"] = 100 * (processCPU - lastProcessCPU) / wall }
        lastProcessCPU = processCPU
        lastWall = now
        if let rss = Self.residentBytes() { out["system/rss_mb"] = rss / 1_048_576 }
        if let ram = Self.ramUsedFraction() { out["system/ram_used_percent"] = 100 * ram }
        if let gpu = gpuMemoryBytes?() { out["system/gpu_memory_mb"] = gpu / 1_048_576 }
        return out
    }

    /// Samples and logs every value at `step`.
    public func log(to logger: MetricsLogger, step: Int) throws {
        try logger.scalars(sample(), step: step)
    }

    // MARK: sources

    /// Busy and total jiffies over all CPUs, from the first line of /proc/stat.
    static func systemCPUTicks() -> (busy: Double, total: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 4 else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
        let counted = Array(fields.prefix(8))
        let total = counted.reduce(0, +)
        let idle = counted[3] + (counted.count > 4 ? counted[4] : 0)
        return (total - idle, total)
    }

    /// This process's user + system CPU seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        let status = getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        let status = getrusage(RUSAGE_SELF, &usage)
        #endif
        guard status == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Resident set size in bytes (second field of /proc/self/statm, in pages).
    static func residentBytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// (MemTotal − MemAvailable) / MemTotal from /proc/meminfo.
    static func ramUsedFraction() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        var total: Double?, available: Double?
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == ":" })
            guard parts.count >= 2 else { continue }
            if parts[0] == "MemTotal" { total = Double(parts[1]) }
            if parts[0] == "MemAvailable" { available = Double(parts[1]) }
        }
        guard let total, let available, total > 0 else { return nil }
        return (total - available) / total
    }
}
