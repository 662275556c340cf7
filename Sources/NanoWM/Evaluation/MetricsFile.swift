import Foundation
import SwiftTorch
import PythonCompatible

/// The metrics file of `nanowm metrics` and `nanowm evaluate`:
///
///     {"metrics": {name: value}, "settings": {name: value}, "counts": {name: n},
///      "notes": [why a metric is missing], "per_frame": {metric: [mean at each predicted frame]}}
///
/// Settings hold everything that affects a number (inputs, network and checkpoint hashes,
/// sampling settings, seeds, torch version, device), so two files say whether they compare.
/// `nanowm compare` reads the `metrics` of any file in this schema (e.g. the PyTorch
/// baseline's published numbers written by hand).
public struct MetricsFile {
    public var metrics: [(name: String, value: Double)]
    public var settings: [(name: String, value: Any)]
    public var counts: [(name: String, value: Int)]
    public var notes: [String]
    public var perFrame: [(name: String, values: [Double])]

    public init(summary: MetricsSummary, settings: [(name: String, value: Any)]) {
        metrics = summary.metrics
        counts = summary.counts
        notes = summary.notes
        perFrame = summary.perFrame
        self.settings = settings
    }

    /// The file's JSON, keys in report order.
    public var json: JSONValue {
        .object([
            ("metrics", .object(metrics.map { ($0.name, .double($0.value)) })),
            ("settings", .object(settings.map { ($0.name, JSONValue(sortingKeysOf: $0.value)) })),
            ("counts", .object(counts.map { ($0.name, .int($0.value)) })),
            ("notes", .array(notes.map(JSONValue.string))),
            ("per_frame", .object(perFrame.map { ($0.name, .array($0.values.map(JSONValue.double))) })),
        ])
    }

    /// Writes the file atomically.
    public func write(to path: String) throws {
        let text = PythonJSON.dumps(json, indent: 2) + "\n"
        try AtomicFile.write(to: path) { Data(text.utf8) }
    }

    /// Reads the `metrics` section of a file in this schema, in the file's order.
    public static func readMetrics(_ path: String) throws -> [(name: String, value: Double)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError("\(path): no such metrics file; pass a metrics.json written by nanowm metrics or nanowm evaluate")
        }
        guard let root = try? PythonJSON.loads(data), case .object(let metrics)? = root["metrics"] else {
            throw EvaluationError("\(path): not a metrics file (expected a JSON object with a \"metrics\" object of numbers)")
        }
        return try metrics.map { name, value in
            guard let number = value.number else { throw EvaluationError("\(path): metric '\(name)' is not a number") }
            return (name, number)
        }
    }

    /// The per-clip CSV: upstream's `evaluate_metrics.py` columns, one row per clip and frame.
    public static func writeCSV(_ rows: [FrameScore], to path: String) throws {
        var text = "sample_id,frame_idx,is_context,mse,psnr,ssim,lpips\n"
        for row in rows {
            let clip = row.clip.contains(",") || row.clip.contains("\"") ? PythonJSON.string(row.clip) : row.clip
            text += "\(clip),\(row.frame),\(row.isContext ? "True" : "False"),\(number(row.mse)),\(number(row.psnr)),\(number(row.ssim)),\(row.lpips.map(number) ?? "")\n"
        }
        try AtomicFile.write(to: path) { Data(text.utf8) }
    }

    static func number(_ value: Double) -> String {
        value.isFinite ? PythonJSON.float(value) : "null"
    }

}
