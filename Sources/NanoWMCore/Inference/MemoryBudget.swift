import Foundation
import NanoWMFormats

/// Memory a generation will need, checked before any work: a rollout of a million frames
/// should be refused in a second with its size, not fail (or swap) hours later.
public struct MemoryBudget {
    /// Rough bytes the run needs at its peak.
    public let needed: Double
    /// What the operating system can give without swapping (nil where unknown).
    public let available: Double?

    /// Estimates below this are not worth a word.
    static let noteworthy = 1e9

    /// A float32 result `[batch, frames, frame…]` built by appending frames (old and new copy
    /// live together while the result grows), plus the model's working window, allowed
    /// 16 window-sized float32 tensors for noise, predictions and activations.
    public static func generation(batch: Int, frames: Int, window: Int, frameShape: [Int],
                                  available: Double? = MemoryBudget.availableBytes()) -> MemoryBudget {
        // Double, so that absurd --frames values cannot overflow.
        let frameBytes = Double(batch) * frameShape.reduce(1.0) { $0 * Double($1) } * 4
        return MemoryBudget(needed: frameBytes * (2 * Double(frames) + 16 * Double(window)), available: available)
    }

    /// Throws when the run cannot fit; returns a note for a large run that can.
    /// - Parameter fix: the setting to lower, e.g. `--frames`.
    public func check(fix: String) throws -> String? {
        if let available, needed > available {
            throw DataError("this run needs ~\(Self.gigabytes(needed)), \(Self.gigabytes(available)) available; lower \(fix)")
        }
        guard needed >= Self.noteworthy else { return nil }
        return "this run needs ~\(Self.gigabytes(needed)) of memory" + (available.map { " (\(Self.gigabytes($0)) available)" } ?? "")
    }

    static func gigabytes(_ bytes: Double) -> String {
        String(format: "%.1f GB", bytes / 1e9)
    }

    /// `MemAvailable` of /proc/meminfo (Linux); nil where there is none.
    public static func availableBytes(meminfo: String = "/proc/meminfo") -> Double? {
        guard let text = try? String(contentsOfFile: meminfo, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kib = Double(fields[1]) { return kib * 1024 }
        }
        return nil
    }
}
