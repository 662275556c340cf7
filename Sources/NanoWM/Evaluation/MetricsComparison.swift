import Foundation

/// `nanowm compare`: the metrics of several metrics files side by side, each later column with
/// its difference to the first (e.g. our evaluation of a checkpoint against the PyTorch
/// baseline's numbers written in the same schema), as plain text or a Markdown table.
public struct MetricsComparison {
    public let files: [String]
    public let columns: [[(name: String, value: Double)]]

    public init(files: [String]) throws {
        guard files.count >= 2 else { throw EvaluationError("compare needs at least two metrics files (got \(files.count))") }
        self.files = files
        columns = try files.map(MetricsFile.readMetrics)
    }

    /// Metric names in first-seen order over all files.
    var names: [String] {
        var seen: [String] = []
        for column in columns { for (name, _) in column where !seen.contains(name) { seen.append(name) } }
        return seen
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "—" }
        return abs(value) >= 1000 || (abs(value) < 0.001 && value != 0) ? String(format: "%.4g", value) : String(format: "%.4f", value)
    }

    static func difference(_ value: Double?, _ base: Double?) -> String {
        guard let value, let base else { return "" }
        let d = value - base
        return " (" + (d >= 0 ? "+" : "") + format(d) + ")"
    }

    func cells() -> [[String]] {
        names.map { name in
            let values = columns.map { column in column.first { $0.name == name }?.value }
            return [name] + values.enumerated().map { i, v in Self.format(v) + (i == 0 ? "" : Self.difference(v, values[0])) }
        }
    }

    public func render(markdown: Bool) -> String {
        let header = ["metric"] + files.map { URL(fileURLWithPath: $0).lastPathComponent == "metrics.json"
            ? URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent : URL(fileURLWithPath: $0).lastPathComponent }
        let rows = cells()
        if markdown {
            let line = { (cells: [String]) in "| " + cells.joined(separator: " | ") + " |" }
            return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n")
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        let pad = { (cells: [String]) in
            cells.enumerated().map { c, text in text.padding(toLength: widths[c], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([pad(header)] + rows.map(pad)).joined(separator: "\n") + "\n(differences are against the first file)"
    }
}
