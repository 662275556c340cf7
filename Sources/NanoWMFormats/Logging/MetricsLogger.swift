import SwiftTorch

/// Where training and evaluation send their metrics: scalars, images and videos keyed by a
/// name (`train/loss`, `eval/rollout`) and the global step. `TensorBoardWriter` is one
/// backend; others (Weights & Biases, a CSV file) implement the same few calls.
public protocol MetricsLogger: AnyObject {
    /// One scalar value. Backends may store it in lower precision (TensorBoard keeps float32).
    func scalar(_ name: String, _ value: Double, step: Int) throws
    /// One RGB image.
    func image(_ name: String, _ image: RGBImage, step: Int) throws
    /// A short video of frames of one size, played at `fps` frames a second.
    func video(_ name: String, frames: [RGBImage], fps: Double, step: Int) throws
    /// A line of text for a person (a run's train.log); most backends keep none.
    func text(_ line: String)
    /// Makes everything logged so far visible to readers.
    func flush() throws
    /// Flushes and releases the backend; later calls fail.
    func close() throws
}

extension MetricsLogger {
    public func text(_ line: String) {}

    /// Several scalars at one step, in name order.
    public func scalars(_ values: [String: Double], step: Int) throws {
        for name in values.keys.sorted() { try scalar(name, values[name]!, step: step) }
    }

    /// An image from a tensor `[3, H, W]` or `[H, W, 3]` (floats in [0, 1], or uint8).
    public func image(_ name: String, tensor: Tensor, step: Int) throws {
        try image(name, RGBImage(tensor: tensor), step: step)
    }

    /// A video from a tensor `[T, 3, H, W]` or `[T, H, W, 3]` (floats in [0, 1], or uint8).
    public func video(_ name: String, tensor: Tensor, fps: Double, step: Int) throws {
        try video(name, frames: RGBImage.frames(from: tensor), fps: fps, step: step)
    }
}
