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

    /// Writes the file atomically, with keys in report order.
    public func write(to path: String) throws {
        func object(_ pairs: [(String, String)]) -> String {
            "{" + pairs.map { "\n    \(PythonJSON.string($0.0)): \($0.1)" }.joined(separator: ",") + "\n  }"
        }
        let sections: [(String, String)] = [
            ("metrics", object(metrics.map { ($0.name, Self.number($0.value)) })),
            ("settings", object(settings.map { ($0.name, Self.json($0.value)) })),
            ("counts", object(counts.map { ($0.name, "\($0.value)") })),
            ("notes", "[" + notes.map(PythonJSON.string).joined(separator: ", ") + "]"),
            ("per_frame", object(perFrame.map { ($0.name, "[" + $0.values.map(Self.number).joined(separator: ", ") + "]") })),
        ]
        let text = "{" + sections.map { "\n  \(PythonJSON.string($0.0)): \($0.1)" }.joined(separator: ",") + "\n}\n"
        try AtomicFile.write(to: path) { Data(text.utf8) }
    }

    /// Reads the `metrics` section of a file in this schema, in the file's order.
    public static func readMetrics(_ path: String) throws -> [(name: String, value: Double)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError("\(path): no such metrics file; pass a metrics.json written by nanowm metrics or nanowm evaluate")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let metrics = root["metrics"] as? [String: Any] else {
            throw EvaluationError("\(path): not a metrics file (expected a JSON object with a \"metrics\" object of numbers)")
        }
        // JSONSerialization loses key order; recover it from the text.
        let text = String(decoding: data, as: UTF8.self)
        let ordered = metrics.keys.sorted { (text.range(of: PythonJSON.string($0))?.lowerBound ?? text.endIndex) < (text.range(of: PythonJSON.string($1))?.lowerBound ?? text.endIndex) }
        return try ordered.map { name in
            guard let value = metrics[name] as? NSNumber, !(metrics[name] is Bool) else {
                throw EvaluationError("\(path): metric '\(name)' is not a number")
            }
            return (name, value.doubleValue)
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
        value.isFinite ? "\(value)" : "null"
    }

    static func json(_ value: Any) -> String {
        switch value {
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return "\(i)"
        case let u as UInt64: return "\(u)"
        case let d as Double: return number(d)
        case let s as String: return PythonJSON.string(s)
        case let list as [Any]: return "[" + list.map(json).joined(separator: ", ") + "]"
        case Optional<Any>.none: return "null"
        default: return PythonJSON.string("\(value)")
        }
    }
}
