import Foundation

// `nanowm-bench [ops] [--threads N] [--iterations N]`: SwiftTorch against PyTorch eager,
// both measured in this run on this machine. Run from the repository root (scripts/bench).
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, default value: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else { return value }
    return v
}
let suites = arguments.filter { !$0.hasPrefix("--") && Int($0) == nil }
let threads = option("--threads", default: 1)
do {
    for suite in suites.isEmpty ? ["ops"] : suites {
        switch suite {
        case "ops": try benchOps(threads: threads, iterations: option("--iterations", default: 20000))
        default: throw BenchError("unknown benchmark '\(suite)'; known: ops")
        }
    }
} catch {
    FileHandle.standardError.write(Data("nanowm-bench: \(error)\n".utf8))
    exit(1)
}
