import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// `nanowm forward --gradients`: the backward pass compared with the reference's from outside
/// (issue #24's device check compares it with PyTorch on a GPU). The fixture holds the
/// reference model's `p.grad` after `(model(x, t, action=action) * probe).sum().backward()`,
/// with its float64 replay (Tests/Fixtures/make_gradient_fixtures.py); the checkpoint is a
/// state dict PyTorch saves here.
final class ForwardGradientTests: XCTestCase {
    private var scratch: TemporaryDirectory!

    override func setUpWithError() throws { scratch = try TemporaryDirectory("forward-gradients") }
    override func tearDown() { scratch.remove() }

    private func checkpoint(_ fixture: FixtureFile) throws -> String {
        let file = scratch.path("weights.pt")
        _ = try PyTorchBaseline.shared.run("""
        import collections
        torch.save(collections.OrderedDict(sorted(I.items())), \(pythonString(file)))
        """, inputs: fixture.weights)
        return file
    }

    func testParameterGradientsMatchTheReference() throws {
        let fixture = try FixtureFile("nanowm/grad_act_additive_causal_tframe")
        let weights = try checkpoint(fixture)
        try SafeTensors.write(["x": try fixture.tensor("x"), "t": try fixture.tensor("t"), "action": try fixture.tensor("action"),
                               "probe": try fixture.tensor("probe")], to: scratch.path("in.safetensors"))
        let result = try NanoWMExecutable.run(["forward", "--checkpoint", weights, "--causal", "true", "--input", scratch.path("in.safetensors"),
                                               "--output", scratch.path("out.safetensors"), "--gradients", scratch.path("grads.safetensors")],
                                              environment: ["OMP_NUM_THREADS": "1"])
        XCTAssertEqual(result.status, 0, result.error)
        try fixture.assertAgrees(try XCTUnwrap(SafeTensors.read(scratch.path("out.safetensors")).tensors["out"]), "out", "with --gradients")

        let gradients = try SafeTensors.read(scratch.path("grads.safetensors")).tensors
        let expected = Set(fixture.tensors.keys.filter { $0.hasPrefix("grad.") && !$0.hasSuffix(".f64") }.map { String($0.dropFirst(5)) })
        XCTAssertEqual(Set(gradients.keys), expected, "the parameters with a gradient are the reference's")
        var worst = (ratio: 0.0, key: "")
        for key in expected.sorted() {
            let agreement = try fixture.assertAgrees(try XCTUnwrap(gradients[key]), "grad." + key)
            let ratio = agreement.distance / max(agreement.referenceError, .leastNonzeroMagnitude)
            if ratio > worst.ratio { worst = (ratio, key) }
        }
        print("forward --gradients: \(expected.count) gradients agree; worst distance to float64 \(worst.ratio)× the reference's own error (\(worst.key))")
    }

    /// Without `probe`, or with one of another shape, the command stops with one line and
    /// writes neither file.
    func testAMissingOrMisshapenProbeFailsWithOneLine() throws {
        let fixture = try FixtureFile("nanowm/grad_act_additive_causal_tframe")
        let weights = try checkpoint(fixture)
        let x = try fixture.tensor("x"), t = try fixture.tensor("t"), action = try fixture.tensor("action")
        try SafeTensors.write(["x": x, "t": t, "action": action], to: scratch.path("noprobe.safetensors"))
        try SafeTensors.write(["x": x, "t": t, "action": action, "probe": try Tensor.zeros([1, 2])], to: scratch.path("badprobe.safetensors"))
        for (input, fragment) in [("noprobe", "no tensor 'probe'"), ("badprobe", "probe has shape [1, 2]")] {
            try assertCommandFailsWithOneLine(["forward", "--checkpoint", weights, "--input", scratch.path("\(input).safetensors"),
                                               "--output", scratch.path("out.safetensors"), "--gradients", scratch.path("grads.safetensors")],
                                              mentions: [fragment])
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("out.safetensors")))
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("grads.safetensors")))
        }
    }
}
