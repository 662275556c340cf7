import Foundation
import SwiftTorch

/// Rotary position embedding (RoPE) for one attention axis: 2-D over the patch grid for
/// spatial blocks, 1-D over frames for temporal blocks.
///
/// The angle table is the reference's non-persistent buffer (computed, never saved); the
/// cos/sin tables derived from it are built once per (sequence length, device) and reused by
/// every block, since all blocks of one kind see the same positions.
final class RotaryEmbedding {
    /// Rotation angles [positions, headDim/2], float32 on the CPU.
    let angles: Tensor

    private struct Key: Hashable { var length: Int, device: String }
    private struct Tables { var cos: Tensor, sin: Tensor }
    private var cache: [Key: Tables] = [:]
    private let lock = NSLock()

    private init(angles: Tensor) { self.angles = angles }

    /// 1/10000^(j/n) for j < n, in float32 exactly as the reference computes it.
    private static func inverseFrequencies(_ n: Int) throws -> Tensor {
        let exponents = try Tensor.arange(0, .int(n), dtype: .float32) / Double(n)
        return try 1.0 / Tensor.full(exponents.shape, .double(10000)).pow(exponents)
    }

    /// Patch (r, c) of a side×side grid (row-major) turns the first headDim/4 frequency pairs
    /// by r and the next headDim/4 by c.
    static func grid(headDim: Int, side: Int) throws -> RotaryEmbedding {
        let freqs = try inverseFrequencies(headDim / 4).unsqueeze(0)
        let index = try Tensor.arange(0, .int(side * side), dtype: .int64)
        let rows = try index.floorDivide(.int(side)).to(.float32).unsqueeze(1)
        let cols = try index.remainder(.int(side)).to(.float32).unsqueeze(1)
        return RotaryEmbedding(angles: try Tensor.cat([rows * freqs, cols * freqs], dim: -1))
    }

    /// Position k turns the headDim/2 frequency pairs by k.
    static func sequence(headDim: Int, length: Int) throws -> RotaryEmbedding {
        let freqs = try inverseFrequencies(headDim / 2).unsqueeze(0)
        let positions = try Tensor.arange(0, .int(length), dtype: .float32).unsqueeze(1)
        return RotaryEmbedding(angles: try positions * freqs)
    }

    /// cos and signed sin tables [length, 1, 1, headDim], laid out to broadcast over the
    /// attention's [batch, length, q/k, heads, headDim] tensor. Both halves of the head share
    /// one angle; the sin table is [−sin | sin] so rotation needs no subtraction.
    private func tables(length: Int, device: Device) throws -> Tables {
        lock.lock()
        defer { lock.unlock() }
        let key = Key(length: length, device: device.description)
        if let cached = cache[key] { return cached }
        guard length <= angles.size(0) else {
            throw TorchError.invalidArgument("RoPE: sequence of \(length) exceeds the \(angles.size(0)) positions of the table")
        }
        let theta = try angles.narrow(dim: 0, start: 0, length: length)
        let cos = try theta.cos(), sin = try theta.sin()
        let shape = [length, 1, 1, 2 * theta.size(1)]
        let made = Tables(cos: try Tensor.cat([cos, cos], dim: -1).reshape(shape).to(device),
                          sin: try Tensor.cat([sin.neg(), sin], dim: -1).reshape(shape).to(device))
        cache[key] = made
        return made
    }

    /// Rotates x = [x1 | x2] (halves of the last dim) to [x1·cos − x2·sin | x1·sin + x2·cos],
    /// the reference's half-split convention. `x` is [batch, length, q/k, heads, headDim].
    /// Written as x·cos + [x2 | x1]·[−sin | sin], which gives the same bits with fewer ops.
    /// `start` is the position of x's first element along its length (cached sampling rotates
    /// one frame at its place in the clip); the tables' rows are the same values either way.
    func rotate(_ x: Tensor, start: Int = 0) throws -> Tensor {
        var t = try tables(length: start + x.size(1), device: x.device)
        if start > 0 {
            t = Tables(cos: try t.cos.narrow(dim: 0, start: start, length: x.size(1)),
                       sin: try t.sin.narrow(dim: 0, start: start, length: x.size(1)))
        }
        let half = x.size(-1) / 2
        let swapped = try Tensor.cat([x.narrow(dim: -1, start: half, length: half),
                                      x.narrow(dim: -1, start: 0, length: half)], dim: -1)
        if isGradEnabled { return try x * t.cos + swapped * t.sin }
        return try (x * t.cos).add_(swapped.mul_(t.sin))
    }
}
