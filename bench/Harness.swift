import Foundation
import SwiftTorch

/// One measured operation: the Swift closure and the same work as a PyTorch statement.
struct BenchCase {
    var name: String
    var iterations: Int
    var swift: () throws -> Void
    var torchSetup: String
    var torchStatement: String
}

/// Best-of-`repeats` seconds per iteration, the statistic `timeit` reports too: the minimum is
/// the run least disturbed by the rest of the machine.
func secondsPerIteration(_ iterations: Int, repeats: Int = 5, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { try body() }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = min(best, elapsed / Double(iterations))
    }
    return best
}

/// The project environment's Python, which holds the PyTorch we compare against.
func baselinePython() -> String {
    if let explicit = ProcessInfo.processInfo.environment["NANOWM_PYTHON"] { return explicit }
    return FileManager.default.currentDirectoryPath + "/.venv/bin/python"
}

/// Runs `bench/torch_baseline.py` with `spec` on stdin and returns its JSON answer.
func runTorchBaseline(_ spec: [String: Any]) throws -> [String: Any] {
    let python = baselinePython()
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw BenchError("no PyTorch baseline at \(python): run scripts/setup, or set NANOWM_PYTHON")
    }
    let script = FileManager.default.currentDirectoryPath + "/bench/torch_baseline.py"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    try input.fileHandleForWriting.write(contentsOf: JSONSerialization.data(withJSONObject: spec))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw BenchError("the PyTorch baseline failed (exit \(process.terminationStatus)); run from the repository root")
    }
    return answer
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// Prints one aligned table row per measurement with the Swift/PyTorch ratio.
func printComparison(title: String, unit: String, rows: [(String, Double, Double)], goal: Double) {
    print("\n\(title)")
    let header = "  " + "operation".padding(toLength: 28, withPad: " ", startingAt: 0)
        + "SwiftTorch".leftPadded(12) + "PyTorch".leftPadded(12) + "ratio".leftPadded(8)
    print(header)
    for (name, ours, theirs) in rows {
        print("  " + name.padding(toLength: 28, withPad: " ", startingAt: 0)
              + String(format: "%.2f %@", ours, unit).leftPadded(12)
              + String(format: "%.2f %@", theirs, unit).leftPadded(12)
              + String(format: "%.2fx", ours / theirs).leftPadded(8))
    }
    let ratios = rows.map { $0.1 / $0.2 }
    let geomean = exp(ratios.map(log).reduce(0, +) / Double(ratios.count))
    print(String(format: "  geometric mean ratio %.2fx (goal <= %.2fx: %@)", geomean, goal, geomean <= goal ? "met" : "not met"))
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
