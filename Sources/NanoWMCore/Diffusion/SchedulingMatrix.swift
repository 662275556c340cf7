import SwiftTorch

/// How the noise levels of the generated frames fall over the sampling loop.
public enum SchedulingMode: String, CaseIterable, Sendable {
    /// Every generated frame is denoised together.
    case fullSequence = "full_sequence"
    /// Each frame starts one step after the previous one.
    case pyramid
    /// One frame at a time, each fully denoised before the next starts.
    case sequential

    public init(name: String) throws {
        guard let mode = SchedulingMode(rawValue: name) else {
            throw DiffusionError("unknown scheduling mode '\(name)'; use full_sequence, pyramid or sequential")
        }
        self = mode
    }

    /// Rows of sampling indices (steps … 0) for `frames` generated frames.
    func indexRows(steps: Int, frames: Int) -> [[Int]] {
        switch self {
        case .fullSequence:
            return (0...steps).map { row in Array(repeating: steps - row, count: frames) }
        case .pyramid:
            return (0..<(steps + frames)).map { row in
                (0..<frames).map { frame in
                    let progress = row - frame
                    return progress < 0 ? steps : Swift.max(steps - progress, 0)
                }
            }
        case .sequential:
            return (0...(steps * frames)).map { row in
                (0..<frames).map { frame in
                    Swift.min(Swift.max(steps - (row - frame * steps), 0), steps)
                }
            }
        }
    }
}

/// The noise level of every frame at every sampling step, `[rows][frames]`, in the
/// process's timesteps (−1 = clean). Context frames are clean columns in front.
public func schedulingMatrix(frames: Int, contextFrames: Int, timesteps: Int, steps: Int, mode: SchedulingMode) throws -> [[Int]] {
    let generated = frames - contextFrames
    guard generated > 0 else {
        throw DiffusionError("\(frames) frames leave nothing to generate after \(contextFrames) context frames")
    }
    guard steps >= 1 else { throw DiffusionError("sampling steps must be at least 1 (got \(steps))") }
    // Sampling index k ↦ timestep, through torch's float32 linspace truncated toward zero,
    // exactly as upstream maps them (index 0 ↦ −1, clean).
    let levels = try Tensor.linspace(-1, Double(timesteps - 1), steps: steps + 1).to(.int64).toArray(Int64.self).map(Int.init)
    return mode.indexRows(steps: steps, frames: generated).map { row in
        Array(repeating: levels[0], count: contextFrames) + row.map { levels[Swift.min(Swift.max($0, 0), steps)] }
    }
}
