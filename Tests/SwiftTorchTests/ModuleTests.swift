import SwiftTorch
import TestSupport
import XCTest

/// nn modules against torch.nn: state-dict names, seeded default initialisation (bitwise,
/// since both draw from the same generator in the same order) and strict loading.
final class ModuleTests: XCTestCase {
    final class Block: Module {
        let proj: Linear
        let mlp: Sequential
        let norm: LayerNorm
        init(hidden: Int) throws {
            proj = try Linear(4, 6)
            mlp = Sequential(try Linear(6, hidden), GELU(), try Linear(hidden, 6, bias: false))
            norm = try LayerNorm(6)
            super.init()
        }
    }

    func testStateDictNamesAndSeededInitMatchTorch() throws {
        let torch = try PyTorchBaseline.shared.run("""
        torch.manual_seed(21)
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(4, 6)
                self.mlp = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 6, bias=False))
                self.norm = nn.LayerNorm(6)
        for k, v in Block().state_dict().items():
            O[k] = v
        """)
        try manualSeed(21)
        let block = try Block(hidden: 8)
        let ours = block.stateDict()
        XCTAssertEqual(Set(ours.map { $0.0 }), Set(torch.keys))
        for (key, value) in ours { try assertExactlyEqual(value, torch[key], key) }
    }

    func testStrictLoadNamesEveryProblemAndLoadsNothing() throws {
        let block = try Block(hidden: 8)
        let before = try block.proj.weight.clone()
        var tensors = Dictionary(uniqueKeysWithValues: block.stateDict())
        tensors["proj.weight"] = try Tensor.ones([6, 4])
        tensors["mlp.2.weight"] = try Tensor.zeros([5, 5])
        tensors.removeValue(forKey: "norm.bias")
        tensors["extra"] = try Tensor.zeros([1])
        XCTAssertThrowsError(try block.loadStateDict(tensors)) { error in
            let message = "\(error)"
            for key in ["mlp.2.weight", "norm.bias", "extra"] {
                XCTAssertTrue(message.contains(key), "message should name \(key): \(message)")
            }
        }
        try assertExactlyEqual(block.proj.weight, before, "strict failure must not load")
        let report = try block.loadStateDict(tensors, strict: false)
        XCTAssertEqual(report.missing, ["norm.bias"])
        try assertExactlyEqual(block.proj.weight, Tensor.ones([6, 4]), "non-strict loads the matching keys")
    }
}
