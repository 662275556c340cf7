import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

/// Key mapping from the layouts PyTorch really produces: `torch.compile`'s `_orig_mod.`, a
/// Lightning module's `model.` beside codec weights, and a bare state dict.
final class UpstreamWeightsTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    override func setUpWithError() throws { scratch = try TemporaryDirectory("upstream-weights") }
    override func tearDown() { scratch.remove() }

    func testCompiledAndLightningLayoutsLoadStrictly() throws {
        let compiled = scratch.path("compiled.pt"), lightning = scratch.path("lightning.ckpt"), bare = scratch.path("bare.pt")
        let expected = try PyTorchBaseline.shared.run("""
        torch.manual_seed(0)
        net = torch.nn.Linear(3, 2)
        # torch.compile wraps lazily: the state dict gets `_orig_mod.` without compiling anything.
        torch.save(torch.compile(net).state_dict(), \(pythonString(compiled)))
        class Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = torch.compile(net)
                self.vae = torch.nn.Linear(2, 2)
        torch.save({'state_dict': Module().state_dict(), 'global_step': 1}, \(pythonString(lightning)))
        torch.save(net.state_dict(), \(pythonString(bare)))
        O['weight'] = net.weight; O['bias'] = net.bias
        """)
        for file in [compiled, lightning, bare] {
            let keys = try Checkpoint.open(file).stateDict().map(\.0)
            let linear = try Linear(3, 2)
            let report = try UpstreamWeights.load(file, into: linear)
            XCTAssertTrue(report.isClean, "\(file): \(keys) → \(report)")
            try assertExactlyEqual(linear.weight, expected["weight"], "\(file) weight")
        }
        XCTAssertEqual(try Checkpoint.open(lightning).stateDict().map(\.0).sorted(),
                       ["model._orig_mod.bias", "model._orig_mod.weight", "vae.bias", "vae.weight"])
    }

    func testStrictMismatchNamesEveryProblemInOneLine() throws {
        let file = scratch.path("wrong.pt")
        try Checkpoint.save([("weight", try Tensor.zeros([2, 4])), ("extra", try Tensor.zeros([1]))], to: file)
        let strict = try Linear(3, 2)
        assertOneLineError({ try UpstreamWeights.load(file, into: strict) },
                           mentions: [file, "missing keys (1): bias", "unexpected keys (1): extra", "weight expects [2, 3], got [2, 4]"])
        // Non-strict loads what matches and reports the rest.
        let linear = try Linear(3, 2)
        try Checkpoint.save([("bias", try Tensor.ones([2])), ("extra", try Tensor.zeros([1]))], to: file)
        let report = try UpstreamWeights.load(file, into: linear, strict: false)
        XCTAssertEqual(report.missing, ["weight"])
        XCTAssertEqual(report.unexpected, ["extra"])
        try assertExactlyEqual(linear.bias!, try Tensor.ones([2]))
    }
}
