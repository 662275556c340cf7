import Foundation
import NanoWM
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// `dist`: data-parallel costs on this machine, measured in this run.
///  1. Training step time on one global batch: 2 processes × 1 thread (each half the batch,
///     gradients averaged over Gloo) against 1 process × 2 threads.
///  2. Allreduce (sum, float32) between 2 processes on loopback: our process group against
///     `torch.distributed` (Gloo) in Python, on the same payloads.
/// Workers are this benchmark binary again (`dist-child …`), started by the same launcher as
/// `nanowm train --nproc-per-node`.
func benchDistributed(steps: Int) throws {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-bench-dist-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }

    // 1. Step time on the same global batch of 8 clips.
    let data = scratch.appendingPathComponent("data").path
    let single = try stepTime(overrides: distributedBenchOverrides(data: data, batch: 8), steps: steps, threads: 2)
    let stepsOut = scratch.appendingPathComponent("steps.json").path
    try LocalLauncher(workers: 2, arguments: ["dist-child", "train", stepsOut, String(steps), data]).run()
    let parallel = try readJSON(stepsOut)["seconds"] as? Double ?? .nan
    print("\ntraining step, quickstart model, global batch 8 (\(steps) steps after 2 warm-up steps)")
    print(String(format: "  1 process × 2 threads (batch 8)       %8.1f ms/step", single * 1e3))
    print(String(format: "  2 processes × 1 thread (batch 2 × 4)  %8.1f ms/step  (%.2fx the single process)", parallel * 1e3, parallel / single))

    // 2. Allreduce bandwidth against torch.distributed.
    let sizes = [1 << 10, 1 << 16, 1 << 20, 1 << 23]  // float32 elements: 4 KB … 32 MB
    // Alternating rounds, best of each: a busy machine disturbs both sides alike.
    var ours: [String: Double] = [:], theirs: [String: Double] = [:]
    func keepBest(_ results: [String: Any], into best: inout [String: Double]) {
        for (key, value) in results { if let value = value as? Double { best[key] = min(best[key] ?? .infinity, value) } }
    }
    for _ in 0..<3 {
        let oursOut = scratch.appendingPathComponent("allreduce.json").path
        try LocalLauncher(workers: 2, arguments: ["dist-child", "allreduce", oursOut] + sizes.map(String.init)).run()
        keepBest(try readJSON(oursOut), into: &ours)
        keepBest(try torchDistributedAllreduce(sizes: sizes, output: scratch.appendingPathComponent("torch.json").path), into: &theirs)
    }
    var rows: [(String, Double, Double)] = []
    for size in sizes {
        let key = String(size)
        guard let a = ours[key], let b = theirs[key] else { continue }
        // Reported as bus bandwidth in GB/s of payload per allreduce; the ratio is time-based.
        rows.append((String(format: "allreduce %@", byteLabel(size * 4)), a * 1e6, b * 1e6))
    }
    printComparison(title: "allreduce (sum) of float32, 2 processes on loopback (µs per call)", unit: "µs", rows: rows, goal: 1.10)
    for (name, a, b) in rows {
        let bytes = Double(sizes[rows.firstIndex { $0.0 == name }!] * 4)
        print(String(format: "  %@: %.2f GB/s ours, %.2f GB/s torch.distributed", name, bytes / (a / 1e6) / 1e9, bytes / (b / 1e6) / 1e9))
    }
}

/// A worker of the `dist` benchmark: `dist-child train OUT STEPS DATA` or `dist-child allreduce OUT N…`.
func distributedChild(_ arguments: [String]) throws {
    guard arguments.count >= 2, let launch = try DistributedLaunch.fromEnvironment() else {
        throw BenchError("dist-child runs under the dist benchmark's launcher")
    }
    try Torch.setNumThreads(launch.cpuThreadShare())
    let group = try ProcessGroup(launch, timeout: 600)
    switch arguments[0] {
    case "train":
        guard arguments.count == 4, let steps = Int(arguments[2]) else { throw BenchError("usage: dist-child train OUT STEPS DATA") }
        let seconds = try stepTime(overrides: distributedBenchOverrides(data: arguments[3], batch: 4), steps: steps, group: group)
        if group.rank == 0 { try writeJSON(["seconds": seconds], to: arguments[1]) }
    case "allreduce":
        var results: [String: Double] = [:]
        for size in arguments.dropFirst(2).compactMap({ Int($0) }) {
            let tensor = try Tensor.ones([size])
            let iterations = max(5, min(200, (1 << 24) / size))
            for _ in 0..<3 { try group.allReduce(tensor) }
            try group.barrier()
            results[String(size)] = try secondsPerIteration(iterations, repeats: 5) { try group.allReduce(tensor) }
        }
        if group.rank == 0 { try writeJSON(results, to: arguments[1]) }
    default: throw BenchError("unknown dist-child job '\(arguments[0])'")
    }
}

/// The quickstart experiment on a small generated dataset, with `batch` clips per process.
private func distributedBenchOverrides(data: String, batch: Int) -> [String] {
    ["experiment=quickstart", "wandb.enabled=false", "dataset_dir=\(data)", "dataset.num_trajectories=24",
     "experiment.training.batch_size=\(batch)", "experiment.training.val_every_n_steps=100000"]
}

/// Seconds per training step (best of the timed steps after two warm-up steps).
private func stepTime(overrides: [String], steps: Int, threads: Int? = nil, group: ProcessGroup? = nil) throws -> Double {
    if let threads { try Torch.setNumThreads(threads) }
    let composition = try ConfigComposer.locate().composition(overrides: overrides)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-bench-run-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let job = try TrainingJob(plan: try RunPlan(composition: composition, runDirectory: folder), group: group, log: { _ in })
    try job.trainer.synchronizeWithRankZero()
    for _ in 0..<2 { _ = try job.trainer.trainStep() }
    return try secondsPerIteration(1, repeats: steps) { _ = try job.trainer.trainStep() }
}

/// The same allreduce loop in PyTorch: two Python processes with torch.distributed (Gloo).
private func torchDistributedAllreduce(sizes: [Int], output: String) throws -> [String: Any] {
    let code = """
    import json, os, sys, timeit, torch, torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group('gloo')
    results = {}
    for size in \(sizes):
        t = torch.ones(size)
        iterations = max(5, min(200, (1 << 24) // size))
        for _ in range(3): dist.all_reduce(t)
        dist.barrier()
        results[str(size)] = min(timeit.repeat(lambda: dist.all_reduce(t), number=iterations, repeat=5)) / iterations
    if dist.get_rank() == 0:
        json.dump(results, open(sys.argv[1], 'w'))
    dist.destroy_process_group()
    """
    let python = URL(fileURLWithPath: baselinePython())
    let launcher = try LocalLauncher(workers: 2, arguments: ["-c", code, output], executable: python)
    try launcher.run()
    return try readJSON(output)
}

private func readJSON(_ path: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] else {
        throw BenchError("\(path) holds no JSON object")
    }
    return object
}

private func writeJSON(_ object: [String: Double], to path: String) throws {
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
}

private func byteLabel(_ bytes: Int) -> String {
    bytes >= 1 << 20 ? "\(bytes >> 20) MB" : "\(bytes >> 10) KB"
}
