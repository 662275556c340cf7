import Foundation

// `nanowm-bench [ops] [ckpt] [model] [sample] [codec] [data] [plan] [dist] [metrics] [play] [--threads N] [--iterations N] [--megabytes N] [--steps N]
// [--reference PATH] [--run FOLDER]`: SwiftTorch against PyTorch eager, both measured in this run on this machine. `model` and
// `sample` compare with upstream's PyTorch NanoWM (`data`: its dataset loader), imported from the nano-world-model checkout given with
// --reference or NANOWM_REFERENCE (skipped without one). Run from the repository root (scripts/bench).
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, default value: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else { return value }
    return v
}
/// A string-valued option; its value is not a suite name.
let reference: String? = {
    guard let i = arguments.firstIndex(of: "--reference"), i + 1 < arguments.count else {
        return ProcessInfo.processInfo.environment["NANOWM_REFERENCE"]
    }
    return arguments[i + 1]
}()
/// `play`'s trained run.
let run: String? = arguments.firstIndex(of: "--run").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
let suites = arguments.enumerated().filter { i, argument in
    !argument.hasPrefix("--") && Int(argument) == nil && (i == 0 || !["--reference", "--run"].contains(arguments[i - 1]))
}.map { $0.1 }
let threads = option("--threads", default: 1)
do {
    for suite in suites.isEmpty ? ["ops"] : suites {
        switch suite {
        case "ops": try benchOps(threads: threads, iterations: option("--iterations", default: 20000))
        case "ckpt": try benchCheckpoint(threads: threads, megabytes: option("--megabytes", default: 600))
        case "model": try benchModel(threads: threads, reference: reference)
        case "sample": try benchSampling(threads: threads, reference: reference, steps: option("--steps", default: 20))
        case "codec": try benchCodec(threads: threads)
        case "data": try benchData(threads: threads, reference: reference)
        case "plan": try benchPlanning(threads: threads, reference: reference, steps: option("--steps", default: 4))
        case "dist": try benchDistributed(steps: option("--steps", default: 10))
        case "dist-child":
            // A worker of `dist`, started by its launcher; its arguments follow.
            try distributedChild(Array(arguments.drop { $0 != "dist-child" }.dropFirst()))
            exit(0)
        case "metrics": try benchMetrics(threads: threads)
        case "play": try benchPlay(threads: threads, run: run)
        case "ckpt-child":
            guard suites.count == 3 else { throw BenchError("usage: ckpt-child MODE PATH") }
            try checkpointChild(mode: suites[1], path: suites[2])
            exit(0)
        default: throw BenchError("unknown benchmark '\(suite)'; known: ops, ckpt, model, sample, codec, data, plan, dist, metrics, play")
        }
    }
} catch {
    FileHandle.standardError.write(Data("nanowm-bench: \(error)\n".utf8))
    exit(1)
}
