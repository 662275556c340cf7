import Foundation

// `nanowm-bench [ops] [ckpt] [--threads N] [--iterations N] [--megabytes N]`: SwiftTorch against PyTorch eager,
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
        case "ckpt": try benchCheckpoint(threads: threads, megabytes: option("--megabytes", default: 600))
        case "ckpt-child":
            guard suites.count == 3 else { throw BenchError("usage: ckpt-child MODE PATH") }
            try checkpointChild(mode: suites[1], path: suites[2])
            exit(0)
        default: throw BenchError("unknown benchmark '\(suite)'; known: ops, ckpt")
        }
    }
} catch {
    FileHandle.standardError.write(Data("nanowm-bench: \(error)\n".utf8))
    exit(1)
}
