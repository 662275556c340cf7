import SwiftTorch

/// Frames → patch tokens: a p×p convolution with stride p, tokens in row-major grid order
/// (timm's `PatchEmbed` without a norm layer, as the reference uses it).
///
/// Keys: `proj.weight` [D, C, p, p], `proj.bias` [D].
public final class PatchEmbedder: Module, Layer {
    public let proj: Conv2d
    public let imageSize: Int
    public let patchSize: Int

    public init(imageSize: Int, patchSize: Int, inChannels: Int, hiddenSize: Int) throws {
        self.imageSize = imageSize
        self.patchSize = patchSize
        proj = try Conv2d(inChannels, hiddenSize, kernelSize: patchSize, stride: patchSize)
        super.init()
    }

    /// [N, C, S, S] → [N, (S/p)², D]. The result is a transposed view of the conv output;
    /// the caller's next elementwise op decides the layout.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.size(2) == imageSize, x.size(3) == imageSize else {
            throw TorchError.invalidArgument("patch embedder expects [N, C, \(imageSize), \(imageSize)] input, got \(x.shape)")
        }
        return try proj(x).flatten(start: 2).transpose(1, 2)
    }
}
