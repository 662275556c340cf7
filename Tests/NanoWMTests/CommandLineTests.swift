import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM

/// The `nanowm` commands whose file contracts let anyone compare us with PyTorch from
/// outside: forward, sample, rollout, ckpt and model info, run as a user runs them, on
/// upstream-style checkpoints and the reference's fixtures.
final class CommandLineTests: XCTestCase {
    private var scratch: TemporaryDirectory!

    override func setUpWithError() throws { scratch = try TemporaryDirectory("cli-tests") }
    override func tearDown() { scratch.remove() }

    private func path(_ name: String) -> String { scratch.path(name) }

    /// An upstream-style Lightning checkpoint made by PyTorch: `model._orig_mod.` keys (as after
    /// torch.compile) beside codec weights and hyper-parameters.
    private func upstreamCheckpoint(from fixture: FixtureFile, compiled: Bool = true) throws -> String {
        let file = path("upstream.ckpt")
        let prefix = compiled ? "model._orig_mod." : "model."
        _ = try PyTorchBaseline.shared.run("""
        import argparse, collections
        sd = collections.OrderedDict((\(pythonString(prefix)) + k, v) for k, v in I.items())
        sd['vae.decoder.conv_in.weight'] = torch.zeros(4, 4)
        torch.save({'state_dict': sd, 'global_step': 10, 'epoch': 1, 'pytorch-lightning_version': '2.5.0',
                    'hyper_parameters': {'args': argparse.Namespace(model='nanowm_b2')}}, \(pythonString(file)))
        """, inputs: fixture.weights)
        return file
    }

    private func run(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> NanoWMExecutable.Result {
        let result = try NanoWMExecutable.run(arguments)
        XCTAssertEqual(result.status, 0, "nanowm \(arguments.joined(separator: " ")) failed: \(result.error)", file: file, line: line)
        return result
    }

    func testForwardOnUpstreamCheckpointEqualsReference() throws {
        for name in ["tiny_act_cross_attention_causal_tframe", "tiny_act_film_bidir_tframe", "tiny_noact_causal_tclip"] {
            let fixture = try FixtureFile("nanowm/" + name)
            let checkpoint = try upstreamCheckpoint(from: fixture)
            var inputs = ["x": try fixture.tensor("x"), "t": try fixture.tensor("t")]
            inputs["action"] = fixture.tensors["action"]
            try SafeTensors.write(inputs, to: path("in.safetensors"))
            let causal = name.contains("causal") ? "true" : "false"
            _ = try run(["forward", "--checkpoint", checkpoint, "--input", path("in.safetensors"), "--output", path("out.safetensors"),
                         "--causal", causal], environment: ["OMP_NUM_THREADS": "1"])
            let out = try XCTUnwrap(SafeTensors.read(path("out.safetensors")).tensors["out"])
            try fixture.assertAgrees(out, "out", "via nanowm forward")
        }
    }

    private func run(_ arguments: [String], environment: [String: String]) throws -> NanoWMExecutable.Result {
        let result = try NanoWMExecutable.run(arguments, environment: environment)
        XCTAssertEqual(result.status, 0, "nanowm \(arguments.joined(separator: " ")) failed: \(result.error)")
        return result
    }

    /// `nanowm sample --seed S` draws what upstream draws after `torch.manual_seed(S)`.
    func testSeededSampleReproducesUpstream() throws {
        let fixture = try FixtureFile("diffusion/dfot_cli_path")
        let checkpoint = try upstreamCheckpoint(from: fixture, compiled: false)
        try SafeTensors.write(["context": try fixture.tensor("context"), "action": try fixture.tensor("action")], to: path("clip.safetensors"))
        for (mode, seed, stabilization) in [("sequential", "605", "0.02"), ("pyramid", "604", "0")] {
            _ = try run(["sample", "--checkpoint", checkpoint, "--input", path("clip.safetensors"), "--output", path("samples.safetensors"),
                         "--steps", "8", "--mode", mode, "--seed", seed, "--history-stabilization", stabilization])
            let samples = try XCTUnwrap(SafeTensors.read(path("samples.safetensors")).tensors["samples"])
            let key = stabilization == "0" ? "\(mode).hs0.0" : "\(mode).hs0.02"
            try fixture.assertAgrees(samples, "\(key).samples", "via nanowm sample")
        }
    }

    /// 2 context frames → 10 frames with a 3-frame model, as upstream's rollout script.
    func testSeededRolloutReproducesUpstream() throws {
        let fixture = try FixtureFile("diffusion/rollout_h2_L10_sequential")
        let checkpoint = try upstreamCheckpoint(from: fixture, compiled: false)
        let latents = try fixture.tensor("gt_latents"), raw = try fixture.tensor("raw_actions")
        // Frame interval 2: two raw 2-D actions make one 4-D action per frame.
        try SafeTensors.write(["context": try latents.narrow(dim: 1, start: 0, length: 2),
                               "action": try raw.reshape([raw.shape[0], raw.shape[1] / 2, raw.shape[2] * 2])], to: path("clip.safetensors"))
        _ = try run(["rollout", "--checkpoint", checkpoint, "--input", path("clip.safetensors"), "--output", path("rollout.safetensors"),
                     "--steps", "5", "--frames", "10", "--history", "2", "--seed", "800"])
        let samples = try XCTUnwrap(SafeTensors.read(path("rollout.safetensors")).tensors["samples"])
        try fixture.assertAgrees(samples, "generated", "via nanowm rollout")
    }

    func testBadSamplingInputsFailWithOneLine() throws {
        let fixture = try FixtureFile("diffusion/dfot_cli_path")
        let checkpoint = try upstreamCheckpoint(from: fixture, compiled: false)
        try SafeTensors.write(["context": try fixture.tensor("context"), "action": try Tensor.zeros([2, 3, 7])], to: path("badaction.safetensors"))
        try SafeTensors.write(["context": try Tensor.zeros([2, 3, 4, 4, 4]), "action": try fixture.tensor("action")], to: path("longcontext.safetensors"))
        try SafeTensors.write(["context": try fixture.tensor("context"), "action": try fixture.tensor("action")], to: path("clip.safetensors"))
        let common = ["--checkpoint", checkpoint, "--output", path("x.safetensors")]
        let cases: [(String, [String], String)] = [
            ("action dimension", ["sample", "--input", path("badaction.safetensors")] + common, "action"),
            ("context as long as the clip", ["sample", "--input", path("longcontext.safetensors")] + common, "nothing to generate"),
            ("unknown mode", ["sample", "--input", path("clip.safetensors"), "--mode", "zigzag"] + common, "zigzag"),
            ("steps < 1", ["sample", "--input", path("clip.safetensors"), "--steps", "0"] + common, "steps"),
            ("missing checkpoint", ["sample", "--input", path("clip.safetensors"), "--checkpoint", path("nowhere.ckpt"), "--output", path("x.safetensors")], "nowhere.ckpt"),
        ]
        for (what, arguments, fragment) in cases {
            let result = try NanoWMExecutable.run(arguments)
            XCTAssertNotEqual(result.status, 0, what)
            let lines = result.error.split(separator: "\n").filter { !$0.hasPrefix("Usage") && !$0.hasPrefix("  See") && !$0.isEmpty }
            XCTAssertEqual(lines.count, 1, "\(what): \(result.error)")
            XCTAssertTrue(result.error.contains(fragment), "\(what): \(result.error)")
        }
    }

    func testInspectInfersConfigurationAndCounts() throws {
        let fixture = try FixtureFile("nanowm/tiny_act_adaln_causal_tframe")
        let checkpoint = try upstreamCheckpoint(from: fixture)
        let inspect = try run(["ckpt", "inspect", checkpoint])
        XCTAssertTrue(inspect.output.contains("actions 3-d adaln"), inspect.output)
        XCTAssertTrue(inspect.output.contains("hidden 32, 2 heads, depth 2, patch 2"), inspect.output)
        let model = try NanoWMModel(try NanoWMConfig(referenceArguments: try fixture.json("config") as! [String: Any]))
        XCTAssertTrue(inspect.output.contains("world model: \(fixture.weights.count) tensors"), inspect.output)
        XCTAssertEqual(fixture.weights.count, model.stateDict().count)

        // Parameter counts of `model info` equal upstream's (param_counts.json, default setting).
        let counts = try JSONSerialization.jsonObject(with: Data(contentsOf: FixtureFile.directory.appendingPathComponent("nanowm/param_counts.json"))) as! [[String: Any]]
        for entry in counts where (entry["setting"] as? String) == "default(point_maze)"
            && ["NanoWM-S/2", "NanoWM-B/2"].contains(entry["arch"] as? String ?? "") {
            let arch = entry["arch"] as! String
            let kwargs = entry["kwargs"] as! [String: Any]
            let info = try run(["model", "info", arch, "--action-dim", "\(kwargs["action_dim"] as! Int)",
                                "--injection", kwargs["action_injection_type"] as! String])
            XCTAssertTrue(info.output.contains("parameters: \(entry["params"] as! Int) "), "\(arch): \(info.output)")
        }
    }

    func testConvertRoundTripsThroughSafetensorsAndTorch() throws {
        let fixture = try FixtureFile("nanowm/tiny_act_additive_causal_tframe")
        let checkpoint = try upstreamCheckpoint(from: fixture)
        _ = try run(["ckpt", "convert", checkpoint, path("weights.safetensors")])
        _ = try run(["ckpt", "convert", path("weights.safetensors"), path("weights.pt")])
        let python = try PyTorchBaseline.shared.run("""
        from safetensors.torch import load_file
        a = load_file(\(pythonString(path("weights.safetensors"))))
        b = torch.load(\(pythonString(path("weights.pt"))), weights_only=True)
        assert set(a) == set(b) == set(I), (sorted(set(I) ^ set(a)))
        assert all(torch.equal(a[k], I[k]) and torch.equal(b[k], I[k]) for k in I)
        O['n'] = torch.tensor(len(a))
        """, inputs: fixture.weights)
        XCTAssertEqual(try python["n"]?.item(Int.self), fixture.weights.count)
    }
}
