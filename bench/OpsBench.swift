import Foundation
import SwiftTorch

/// Per-op dispatch time on small tensors, where the cost is the binding, not the arithmetic:
/// every case allocates its result, as eager PyTorch does.
func benchOps(threads: Int, iterations: Int) throws {
    try Torch.setNumThreads(threads)
    try manualSeed(0)
    let a = try Tensor.randn([4, 4]), b = try Tensor.randn([4, 4]), row = try Tensor.randn([1, 4])
    let setup = """
    torch.manual_seed(0)
    a = torch.randn(4, 4); b = torch.randn(4, 4); row = torch.randn(1, 4)
    """
    let cases: [BenchCase] = [
        BenchCase(name: "add", iterations: iterations, swift: { _ = try a + b }, torchSetup: setup, torchStatement: "a + b"),
        BenchCase(name: "mul broadcast", iterations: iterations, swift: { _ = try a * row }, torchSetup: setup, torchStatement: "a * row"),
        BenchCase(name: "add scalar", iterations: iterations, swift: { _ = try a + 1.5 }, torchSetup: setup, torchStatement: "a + 1.5"),
        BenchCase(name: "matmul", iterations: iterations, swift: { _ = try a.matmul(b) }, torchSetup: setup, torchStatement: "a @ b"),
        BenchCase(name: "silu", iterations: iterations, swift: { _ = try a.silu() }, torchSetup: setup, torchStatement: "F.silu(a)"),
        BenchCase(name: "sum", iterations: iterations, swift: { _ = try a.sum() }, torchSetup: setup, torchStatement: "a.sum()"),
        BenchCase(name: "softmax", iterations: iterations, swift: { _ = try a.softmax(dim: -1) }, torchSetup: setup, torchStatement: "a.softmax(-1)"),
        BenchCase(name: "reshape+transpose", iterations: iterations, swift: { _ = try a.reshape([2, 8]).transpose(0, 1) },
                  torchSetup: setup, torchStatement: "a.reshape(2, 8).transpose(0, 1)"),
        BenchCase(name: "cat", iterations: iterations, swift: { _ = try Tensor.cat([a, b], dim: 0) },
                  torchSetup: setup, torchStatement: "torch.cat([a, b], 0)"),
        BenchCase(name: "in-place add_", iterations: iterations, swift: { try a.add_(b) }, torchSetup: setup, torchStatement: "a.add_(b)"),
    ]
    let torch = try runTorchBaseline([
        "threads": threads,
        "cases": cases.map { ["name": $0.name, "setup": $0.torchSetup, "stmt": $0.torchStatement, "iters": $0.iterations] },
    ])
    var rows: [(String, Double, Double)] = []
    for benchCase in cases {
        let ours = try secondsPerIteration(benchCase.iterations, benchCase.swift)
        guard let theirs = torch[benchCase.name] as? Double else { throw BenchError("no PyTorch time for \(benchCase.name)") }
        rows.append((benchCase.name, ours * 1e6, theirs * 1e6))
    }
    printComparison(title: "Per-op dispatch, 4x4 float32 on CPU, \(threads) thread(s), best of 5 x \(iterations)",
                    unit: "us", rows: rows, goal: 0.5)
}
