import Foundation
import SwiftProtobuf
import SwiftTorch

/// Writes TensorBoard event files: `events.out.tfevents.<unix seconds>.<hostname>` in
/// `directory`, a TFRecord stream of `tensorboard.Event` protocol buffers whose first event
/// is `file_version: "brain.Event:2"`. Scalars are `simple_value` summaries (float32), images
/// PNG `Summary.Image`s, videos animated-GIF `Summary.Image`s (TensorBoard's image dashboard
/// plays them), histograms `HistogramProto`s. Point TensorBoard at the folder above
/// (`tensorboard --logdir runs/`) to compare runs.
///
/// Events are buffered and written when `flush()` is called, when the buffer passes
/// `flushBytes`, or when `flushSeconds` have passed since the last write. Safe to call from
/// several threads.
public final class TensorBoardWriter: MetricsLogger, @unchecked Sendable {
    /// The folder that holds the event file.
    public let directory: URL
    /// The event file.
    public let fileURL: URL
    public var flushBytes = 1 << 20
    public var flushSeconds: TimeInterval = 10

    private let handle: FileHandle
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var lastWrite = Date()
    private var closed = false

    /// A writer for the run folder `runDirectory`: events go to `runDirectory/tensorboard/`.
    public convenience init(runDirectory: URL) throws {
        try self.init(directory: runDirectory.appendingPathComponent("tensorboard"))
    }

    /// A writer whose event file goes directly in `directory` (created when missing).
    public init(directory: URL, hostname: String = ProcessInfo.processInfo.hostName) throws {
        self.directory = directory
        try Folder.create(directory)
        let now = Date()
        let base = "events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(hostname.isEmpty ? "localhost" : hostname)"
        // Two writers in one folder within a second would share a name: number the later ones.
        var url = directory.appendingPathComponent(base)
        var n = 1
        while FileManager.default.fileExists(atPath: url.path) {
            url = directory.appendingPathComponent("\(base).\(n)")
            n += 1
        }
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw TorchError.invalidArgument("cannot create TensorBoard event file \(url.path)")
        }
        fileURL = url
        handle = try FileHandle(forWritingTo: url)
        var event = Tensorboard_Event()
        event.wallTime = now.timeIntervalSince1970
        event.fileVersion = "brain.Event:2"
        try write(event, forceFlush: true)
    }

    deinit { try? close() }

    public func scalar(_ name: String, _ value: Double, step: Int) throws {
        var v = Tensorboard_Summary.Value()
        v.tag = name
        v.simpleValue = Float(value)
        try write([v], step: step)
    }

    public func image(_ name: String, _ image: RGBImage, step: Int) throws {
        try write([imageValue(name, image, encoded: PNGEncoder.encode(image))], step: step)
    }

    public func video(_ name: String, frames: [RGBImage], fps: Double, step: Int) throws {
        let gif = try GIFEncoder.encode(frames: frames, fps: fps)
        try write([imageValue(name, frames[0], encoded: gif)], step: step)
    }

    /// A histogram of `values` in `bins` equal-width buckets between their minimum and maximum.
    public func histogram<S: Sequence>(_ name: String, values: S, step: Int, bins: Int = 30) throws where S.Element: BinaryFloatingPoint {
        let xs = values.map { Double($0) }.filter { $0.isFinite }
        guard !xs.isEmpty, bins > 0 else { return }
        let lo = xs.min()!, hi = xs.max()!
        var h = Tensorboard_HistogramProto()
        h.min = lo
        h.max = hi
        h.num = Double(xs.count)
        h.sum = xs.reduce(0, +)
        h.sumSquares = xs.reduce(0) { $0 + $1 * $1 }
        if hi > lo {
            let width = (hi - lo) / Double(bins)
            var counts = [Double](repeating: 0, count: bins)
            for x in xs { counts[min(Int((x - lo) / width), bins - 1)] += 1 }
            h.bucketLimit = (1...bins).map { $0 == bins ? hi : lo + Double($0) * width }
            h.bucket = counts
        } else {
            h.bucketLimit = [hi]
            h.bucket = [Double(xs.count)]
        }
        var v = Tensorboard_Summary.Value()
        v.tag = name
        v.histo = h
        try write([v], step: step)
    }

    /// A histogram of a tensor's values (any dtype, any device).
    public func histogram(_ name: String, tensor: Tensor, step: Int, bins: Int = 30) throws {
        try histogram(name, values: tensor.to(.cpu).toArray(Double.self), step: step, bins: bins)
    }

    public func flush() throws {
        lock.lock()
        defer { lock.unlock() }
        try writePending()
    }

    public func close() throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        try writePending()
        closed = true
        try handle.close()
    }

    // MARK: writing

    private func imageValue(_ name: String, _ image: RGBImage, encoded: [UInt8]) -> Tensorboard_Summary.Value {
        var img = Tensorboard_Summary.Image()
        img.height = Int32(image.height)
        img.width = Int32(image.width)
        img.colorspace = 3  // RGB
        img.encodedImageString = Data(encoded)
        var v = Tensorboard_Summary.Value()
        v.tag = name
        v.image = img
        return v
    }

    private func write(_ values: [Tensorboard_Summary.Value], step: Int) throws {
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.step = Int64(step)
        var summary = Tensorboard_Summary()
        summary.value = values
        event.summary = summary
        try write(event, forceFlush: false)
    }

    private func write(_ event: Tensorboard_Event, forceFlush: Bool) throws {
        let bytes: [UInt8] = try event.serializedBytes()
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw TorchError.invalidArgument("TensorBoard writer for \(fileURL.path) is closed") }
        pending += TFRecord.frame(bytes)
        if forceFlush || pending.count >= flushBytes || Date().timeIntervalSince(lastWrite) >= flushSeconds {
            try writePending()
        }
    }

    /// Writes the buffered records; the caller holds `lock`.
    private func writePending() throws {
        lastWrite = Date()
        guard !pending.isEmpty, !closed else { return }
        try handle.write(contentsOf: Data(pending))
        pending.removeAll(keepingCapacity: true)
    }
}
