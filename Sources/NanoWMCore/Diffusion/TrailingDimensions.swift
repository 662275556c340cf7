import SwiftTorch

extension Tensor {
    /// A per-clip `[B]` or per-frame `[B, F]` quantity with singleton dimensions appended so
    /// it broadcasts against frames of `rank` dimensions (`[B, F, C, H, W]`).
    func withTrailingDimensions(toRank rank: Int) throws -> Tensor {
        var value = self
        while value.shape.count < rank { value = try value.unsqueeze(-1) }
        return value
    }
}
