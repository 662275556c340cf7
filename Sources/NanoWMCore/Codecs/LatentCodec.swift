import SwiftTorch

/// Maps frames to the space the world model works in and back: SD-VAE, Web-DINO and
/// V-JEPA encoders (TorchScript), or plain pixels.
public protocol LatentCodec {
    /// Latent `[C, H, W]` for frames of `[3, H, W]`.
    func latentShape(forFrame frame: [Int]) -> [Int]
    /// Frames `[N, 3, H, W]` in [−1, 1], as upstream's codecs take them, to latents `[N, C, h, w]`.
    func encode(signed frames: Tensor) throws -> Tensor
    /// `encode(signed:)` of block `share` of a batch split into `shares` equal consecutive
    /// blocks whose others are encoded elsewhere (by the other ranks of a data-parallel run):
    /// a random draw is made for the whole batch, exactly as encoding it at once makes it, and
    /// this block's part used, so the latents do not depend on how the batch was split.
    func encode(signed frames: Tensor, share: Int, of shares: Int) throws -> Tensor
    /// Latents to the decoder's raw output (nominally [−1, 1], unclamped), as upstream returns
    /// it; throws when the codec has no decoder.
    func decodeToSigned(_ latents: Tensor) throws -> Tensor
    var hasDecoder: Bool { get }
    /// Moves the codec's network (if any) to `device`.
    func to(_ device: Device) throws
    /// Draws from the global generator what `encode(signed:)` of `count` frames `frame`
    /// (`[3, H, W]`) on `device` draws, and drops it, without encoding: a process that leaves
    /// a batch to another (an evaluation rank) keeps the generator where encoding it would.
    /// Deterministic encoders draw nothing.
    func discardEncodingDraws(frames count: Int, of frame: [Int], device: Device) throws
    /// Whether encoding draws from the global generator (the SD-VAE's posterior sample), so
    /// that encoding the same frames twice gives two different results.
    var encodingDraws: Bool { get }
}

/// Stored 8-bit frames as codecs take them, the way upstream's datasets make them: / 255, then · 2 − 1.
public func signedFrames(_ bytes: Tensor) throws -> Tensor { try ClipCodec.signed(try bytes.to(.float32) / 255.0) }

extension LatentCodec {
    public var encodingDraws: Bool { false }
}

/// The identity: the model works on the frames themselves, in [−1, 1]. Needs no pretrained
/// encoder, so the quickstart runs anywhere.
public struct PixelCodec: LatentCodec {
    public init() {}
    public func latentShape(forFrame frame: [Int]) -> [Int] { frame }
    public var hasDecoder: Bool { true }
    public func to(_ device: Device) throws {}
    public func discardEncodingDraws(frames count: Int, of frame: [Int], device: Device) throws {}
    public func encode(signed frames: Tensor) throws -> Tensor { frames }
    public func encode(signed frames: Tensor, share: Int, of shares: Int) throws -> Tensor { frames }
    public func decodeToSigned(_ latents: Tensor) throws -> Tensor { latents }
}
