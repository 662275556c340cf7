import Foundation
import SwiftTorch

/// Loading a ~600 MB `torch.save` checkpoint: wall time and peak resident memory of our
/// reader against `torch.load`, each case in a fresh process so peaks do not accumulate.
/// The file is written once by PyTorch, like a released checkpoint (bf16 and f32 mixed).
func benchCheckpoint(threads: Int, megabytes: Int) throws {
    try Torch.setNumThreads(threads)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-bench-\(megabytes)MB.ckpt").path
    if !FileManager.default.fileExists(atPath: path) {
        print("writing a \(megabytes) MB Lightning-style checkpoint with torch.save …")
        _ = try runTorchBaseline(["threads": threads, "cases": [[
            "name": "write", "measure": "rss", "stmt": "pass",
            "setup": """
            import collections
            g = torch.Generator().manual_seed(0)
            sd = collections.OrderedDict()
            n = \(megabytes) * 2**20 // (4 * 2**20)
            for i in range(n):
                t = torch.randn(1024, 1024, generator=g)
                sd[f'model.blocks.{i}.mlp.w{i % 3 + 1}.weight'] = t if i % 4 else t.to(torch.bfloat16)
            torch.save({'state_dict': sd, 'global_step': 1, 'epoch': 0}, '\(path)')
            """]]])
    }
    let rows: [(String, [String], String)] = [
        ("load every tensor", ["load"], "sd = torch.load('\(path)', weights_only=True)['state_dict']"),
        ("load into preallocated", ["into"], """
        sd = torch.load('\(path)', weights_only=True)['state_dict']
        dst = {k: torch.empty_like(v) for k, v in sd.items()}
        for k, v in sd.items(): dst[k].copy_(v)
        del sd
        """),
    ]
    var timeRows: [(String, Double, Double)] = [], memoryRows: [(String, Double, Double)] = []
    for (name, mode, torchStatement) in rows {
        let ours = try bestOfThree { try measureInChild(mode + [path], threads: threads) }
        let theirs = try bestOfThree {
            let answer = try runTorchBaseline(["threads": threads, "cases": [["name": name, "measure": "rss", "stmt": torchStatement]]])
            guard let result = answer[name] as? [String: Double] else { throw BenchError("no PyTorch result for \(name)") }
            return (result["seconds"] ?? .nan, result["peak_rss"] ?? .nan)
        }
        timeRows.append((name, ours.seconds * 1000, theirs.seconds * 1000))
        memoryRows.append((name, ours.peakRSS / 1e6, theirs.peakRSS / 1e6))
    }
    printComparison(title: "checkpoint load time, \(megabytes) MB (best of 3, fresh process each)", unit: "ms", rows: timeRows, goal: 0.5)
    printComparison(title: "checkpoint load peak RSS (whole process, libtorch/PyTorch included)", unit: "MB", rows: memoryRows, goal: 0.6)
}

/// The lower time and the lower peak of three runs.
private func bestOfThree(_ run: () throws -> (seconds: Double, peakRSS: Double)) throws -> (seconds: Double, peakRSS: Double) {
    var best = (seconds: Double.infinity, peakRSS: Double.infinity)
    for _ in 0..<3 {
        let r = try run()
        best = (min(best.seconds, r.seconds), min(best.peakRSS, r.peakRSS))
    }
    return best
}

/// Runs this executable as `nanowm-bench ckpt-child MODE PATH` and reads its JSON answer.
private func measureInChild(_ arguments: [String], threads: Int) throws -> (seconds: Double, peakRSS: Double) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["ckpt-child"] + arguments + ["--threads", String(threads)]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let answer = try JSONSerialization.jsonObject(with: data) as? [String: Double] else {
        throw BenchError("the Swift measurement process failed (exit \(process.terminationStatus))")
    }
    return (answer["seconds"] ?? .nan, answer["peak_rss"] ?? .nan)
}

/// The child's side: load the file the way `mode` says, then print seconds and peak RSS.
func checkpointChild(mode: String, path: String) throws {
    let start = DispatchTime.now().uptimeNanoseconds
    let tensors = try Checkpoint.open(path).stateDict()
    switch mode {
    case "load":
        for (_, ref) in tensors { _ = try ref.load() }
    case "into":
        let destinations = try tensors.map { try Tensor.empty($0.1.shape, dtype: $0.1.dtype ?? .float32) }
        for ((_, ref), destination) in zip(tensors, destinations) { try ref.read(into: destination) }
    default:
        throw BenchError("unknown checkpoint mode \(mode)")
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print("{\"seconds\": \(seconds), \"peak_rss\": \(Double(usage.ru_maxrss) * 1024)}")
}
