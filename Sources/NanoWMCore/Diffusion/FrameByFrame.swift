import SwiftTorch

/// A causal model in the form cached sampling uses: frame k's output depends only on frames
/// 0…k, so once a frame's latent and noise level are final, what each layer computed for it
/// can be kept and the next frame denoised on its own tokens. `commit` runs frame `index`
/// (`[B, 1, C, H, W]` at model timesteps `[B, 1]`) and keeps what later frames attend to;
/// `predict` gives frame `index`'s output from that frame alone and the committed frames
/// before it. Frames are committed in order, each once.
public struct FrameByFrame {
    public let predict: (_ frame: Tensor, _ index: Int, _ t: Tensor) throws -> Tensor
    public let commit: (_ frame: Tensor, _ index: Int, _ t: Tensor) throws -> Void
    /// Commits frames 0..<F (`[B, F, C, H, W]` at `[B, F]`) in one pass, before any other
    /// commit: a window's context frames at once instead of one forward each.
    public let commitFirst: ((_ frames: Tensor, _ t: Tensor) throws -> Void)?

    public init(predict: @escaping (Tensor, Int, Tensor) throws -> Tensor,
                commit: @escaping (Tensor, Int, Tensor) throws -> Void,
                commitFirst: ((Tensor, Tensor) throws -> Void)? = nil) {
        self.predict = predict
        self.commit = commit
        self.commitFirst = commitFirst
    }
}

/// The sequential sampling loop on a `FrameByFrame` model: each step moves one frame (the
/// scheduling matrix's rows differ in one column), whose output is predicted alone; the frames
/// before it are committed as the loop reaches them, at the levels they keep from then on. The
/// step's model returns zeros for every other frame: the process keeps those frames' values
/// (their levels do not change), and its arithmetic and random draws are the full clip's, so
/// the generator advances exactly as in uncached sampling.
final class CachedSteps {
    private let model: FrameByFrame
    private var committed = 0

    init(_ model: FrameByFrame) { self.model = model }

    func denoiser(moving row: [Int], to next: [Int]) throws -> Denoiser {
        let moving = row.indices.filter { row[$0] != next[$0] && row[$0] >= 0 }
        guard moving.count <= 1 else {
            throw DiffusionError("cached sampling moves one frame a step; this schedule moves \(moving.count)")
        }
        return { [self] x, t in
            guard let k = moving.first else { return try Tensor.zeros(like: x) }
            if committed == 0, k > 1, let commitFirst = model.commitFirst {
                try commitFirst(x.narrow(dim: 1, start: 0, length: k), t.narrow(dim: 1, start: 0, length: k))
                committed = k
            }
            while committed < k {
                try model.commit(x.narrow(dim: 1, start: committed, length: 1), committed,
                                 t.narrow(dim: 1, start: committed, length: 1))
                committed += 1
            }
            let output = try model.predict(x.narrow(dim: 1, start: k, length: 1), k, t.narrow(dim: 1, start: k, length: 1))
            var parts: [Tensor] = []
            if k > 0 { parts.append(try Tensor.zeros(like: x.narrow(dim: 1, start: 0, length: k))) }
            parts.append(output)
            let after = x.size(1) - k - 1
            if after > 0 { parts.append(try Tensor.zeros(like: x.narrow(dim: 1, start: k + 1, length: after))) }
            return try Tensor.cat(parts, dim: 1)
        }
    }
}
