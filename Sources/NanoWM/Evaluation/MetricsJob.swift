import Foundation
import SwiftTorch
import NanoWMFormats

/// `nanowm metrics`: scores predicted clips against ground truth with upstream's metric
/// definitions and writes the metrics file (and, if asked, the per-frame CSV). Everything is
/// checked (inputs, network files, output folder) before any scoring, and nothing is written
/// unless scoring succeeds.
public struct MetricsJob {
    public var prediction: String
    public var truth: String?
    public var output: String
    public var contextFrames = 1
    public var lpips: String?
    public var inception: String?
    public var i3d: String?
    public var perClipCSV: String?
    public var device = Device.cpu

    public init(prediction: String, truth: String?, output: String) {
        (self.prediction, self.truth, self.output) = (prediction, truth, output)
    }

    @discardableResult
    public func run(progress: Bool = true) throws -> MetricsSummary {
        try requireFolder(of: output, option: "--output")
        if let perClipCSV { try requireFolder(of: perClipCSV, option: "--per-clip") }
        let networks = try MetricNetworks(lpips: lpips, inception: inception, i3d: i3d, device: device)
        let pairs = try ClipPairs(prediction: prediction, truth: truth)
        let accumulator = VideoMetricAccumulator(contextFrames: contextFrames, networks: networks)
        let bar = progress ? ProgressBar("scoring", total: pairs.pairs.count) : nil
        for (i, pair) in pairs.pairs.enumerated() {
            let (p, g) = try pair.load()
            guard p.shape.count == 4, p.shape == g.shape else {
                throw EvaluationError("clip \(pair.name): prediction \(p.shape) and ground truth \(g.shape) differ; pass clips of equal size")
            }
            try accumulator.add(prediction: try p.to(device).unsqueeze(0), truth: try g.to(device).unsqueeze(0), names: [pair.name])
            bar?.update(i + 1)
        }
        let summary = try accumulator.summary()
        var settings: [(name: String, value: Any)] = [
            ("command", "nanowm metrics"), ("pred", prediction), ("gt", truth ?? prediction), ("input", pairs.description),
            ("context_frames", contextFrames), ("value_range", "[-1, 1], clamped"),
        ]
        settings += try networkSettings()
        settings += [("torch_version", Torch.version), ("device", "\(device)")]
        try MetricsFile(summary: summary, settings: settings).write(to: output)
        if let perClipCSV { try MetricsFile.writeCSV(accumulator.rows, to: perClipCSV) }
        return summary
    }

    /// Each network's file and fingerprint (none when not given).
    func networkSettings() throws -> [(name: String, value: Any)] {
        try [("lpips", lpips), ("inception", inception), ("i3d", i3d)].map { name, path in
            (name + "_network", try path.map { "\($0) (\(try FileFingerprint.of($0)))" } as Any)
        }
    }
}

/// Refuses an output path whose folder does not exist, before any work.
func requireFolder(of path: String, option: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw EvaluationError("\(option) \(path): folder \(folder) does not exist; create it first")
    }
}
