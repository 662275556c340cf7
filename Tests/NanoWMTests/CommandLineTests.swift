import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

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
    private func upstreamCheckpoint(from fixture: FixtureFile, compiled: Bool = true, weights: [String: Tensor]? = nil,
                                    name: String = "upstream.ckpt") throws -> String {
        let file = path(name)
        let prefix = compiled ? "model._orig_mod." : "model."
        _ = try PyTorchBaseline.shared.run("""
        import argparse, collections
        sd = collections.OrderedDict((\(pythonString(prefix)) + k, v) for k, v in I.items())
        sd['vae.decoder.conv_in.weight'] = torch.zeros(4, 4)
        torch.save({'state_dict': sd, 'global_step': 10, 'epoch': 1, 'pytorch-lightning_version': '2.5.0',
                    'hyper_parameters': {'args': argparse.Namespace(model='nanowm_b2')}}, \(pythonString(file)))
        """, inputs: weights ?? fixture.weights)
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

    /// `nanowm sample --seed S` draws what upstream draws after `torch.manual_seed(S)`. The
    /// fixture's model is causal, so sequential sampling runs cached by default and whole
    /// windows with `--no-cache`: both agree with upstream under the fixture's rounding rule.
    func testSeededSampleReproducesUpstream() throws {
        let fixture = try FixtureFile("diffusion/dfot_cli_path")
        let checkpoint = try upstreamCheckpoint(from: fixture, compiled: false)
        try SafeTensors.write(["context": try fixture.tensor("context"), "action": try fixture.tensor("action")], to: path("clip.safetensors"))
        for (mode, seed, stabilization, cache) in [("sequential", "605", "0.02", []), ("sequential", "605", "0.02", ["--no-cache"]),
                                                   ("pyramid", "604", "0", [])] {
            _ = try run(["sample", "--checkpoint", checkpoint, "--input", path("clip.safetensors"), "--output", path("samples.safetensors"),
                         "--steps", "8", "--mode", mode, "--seed", seed, "--history-stabilization", stabilization] + cache)
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
        try assertEachFailsWithOneLine(cases)
    }

    /// Each case exits ≠ 0 with one line of error (ArgumentParser's usage lines aside) holding
    /// `fragment`, and writes no output.
    private func assertEachFailsWithOneLine(_ cases: [(String, [String], String)], file: StaticString = #filePath, line: UInt = #line) throws {
        for (what, arguments, fragment) in cases {
            try assertCommandFailsWithOneLine(arguments, mentions: [fragment], progressLabels: ["sample", "rollout"], file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.safetensors")), "\(what) wrote output", file: file, line: line)
        }
    }

    /// Inputs and options that used to exit 0 with NaN samples, or with libtorch's raw dtype
    /// message, or with ArgumentParser's "missing value" for a negative number.
    func testUnusableSamplingInputsAndOptionsFailWithOneLine() throws {
        let fixture = try FixtureFile("diffusion/dfot_cli_path")
        let checkpoint = try upstreamCheckpoint(from: fixture, compiled: false)
        let context = try fixture.tensor("context"), action = try fixture.tensor("action")
        var poisoned = try context.toArray(Float.self)
        poisoned[5] = .nan
        poisoned[9] = .infinity
        let clips: [String: Tensor] = [
            "nan": try Tensor(poisoned, shape: context.shape),
            "int64": try context.to(.int64),
            "noframes": try Tensor.zeros([2, 0, 4, 4, 4]),
            "ok": context,
        ]
        for (name, tensor) in clips { try SafeTensors.write(["context": tensor, "action": action], to: path("\(name).safetensors")) }
        let common = ["--checkpoint", checkpoint, "--output", path("x.safetensors"), "--steps", "2"]
        func sample(_ clip: String, _ extra: [String] = []) -> [String] { ["sample", "--input", path("\(clip).safetensors")] + common + extra }
        func rollout(_ clip: String, _ extra: [String]) -> [String] { ["rollout", "--input", path("\(clip).safetensors")] + common + extra }
        try assertEachFailsWithOneLine([
            ("NaN/Inf context", sample("nan"), "'context' has 2 NaN/Inf value(s) of 128"),
            ("integer context", sample("int64"), "'context' is torch.int64"),
            ("zero context frames", sample("noframes"), "at least one clip and one context frame"),
            ("η NaN", sample("ok", ["--eta", "nan"]), "--eta must be a finite number ≥ 0 (got nan)"),
            ("η < 0", sample("ok", ["--eta", "-1"]), "--eta must be a finite number ≥ 0 (got -1.0)"),
            ("negative seed", sample("ok", ["--seed", "-1"]), "--seed must be ≥ 0 (got -1)"),
            ("more steps than trained", sample("ok", ["--steps", "1001"]), "--steps 1001 exceeds the 1000 diffusion steps"),
            ("history 0", rollout("ok", ["--frames", "5", "--history", "0"]), "--history 0 must be at least 1"),
            ("history beyond the context", rollout("ok", ["--frames", "5", "--history", "2"]), "lower --history"),
            // 2 clips × 10¹² frames × 64 floats: petabytes, refused before any model call.
            ("rollout beyond memory", rollout("ok", ["--frames", "1000000000000"]), "GB available; lower --frames"),
        ])
    }

    /// float16 (or float64) inputs are converted to float32 without a word: the result equals
    /// the float32 run on the same values.
    func testFloatingInputsOfAnyPrecisionAreConverted() throws {
        let fixture = try FixtureFile("diffusion/dfot_cli_path")
        let checkpoint = try upstreamCheckpoint(from: fixture, compiled: false)
        let half = try fixture.tensor("context").to(.float16), action = try fixture.tensor("action")
        try SafeTensors.write(["context": half, "action": try action.to(.float64)], to: path("half.safetensors"))
        try SafeTensors.write(["context": try half.to(.float32), "action": action], to: path("single.safetensors"))
        for name in ["half", "single"] {
            let result = try run(["sample", "--checkpoint", checkpoint, "--input", path("\(name).safetensors"),
                                  "--output", path("\(name).out.safetensors"), "--steps", "2", "--seed", "3"])
            XCTAssertFalse(result.error.contains("rror"), result.error)
        }
        let converted = try XCTUnwrap(SafeTensors.read(path("half.out.safetensors")).tensors["samples"])
        let single = try XCTUnwrap(SafeTensors.read(path("single.out.safetensors")).tensors["samples"])
        XCTAssertEqual(converted.dtype, .float32)
        XCTAssertEqual(try converted.toArray(Float.self), try single.toArray(Float.self))

        let model = try FixtureFile("nanowm/tiny_noact_causal_tclip")
        let weights = try upstreamCheckpoint(from: model, name: "forward.ckpt")
        let x = try model.tensor("x"), t = try model.tensor("t")
        try SafeTensors.write(["x": try x.to(.float16), "t": try t.to(.int32)], to: path("in16.safetensors"))
        try SafeTensors.write(["x": try x.to(.float16).to(.float32), "t": t], to: path("in32.safetensors"))
        for name in ["in16", "in32"] {
            _ = try run(["forward", "--checkpoint", weights, "--input", path("\(name).safetensors"), "--output", path("\(name).out.safetensors")],
                        environment: ["OMP_NUM_THREADS": "1"])
        }
        let out16 = try XCTUnwrap(SafeTensors.read(path("in16.out.safetensors")).tensors["out"])
        let out32 = try XCTUnwrap(SafeTensors.read(path("in32.out.safetensors")).tensors["out"])
        XCTAssertEqual(try out16.toArray(Float.self), try out32.toArray(Float.self))
    }

    /// `forward` refuses what libtorch would reject with a raw message, or turn into NaN; a
    /// checkpoint with non-finite weights gets a one-line error instead of a NaN file.
    func testUnusableForwardInputsAndNonFiniteResultsFailWithOneLine() throws {
        let fixture = try FixtureFile("nanowm/tiny_noact_causal_tclip")
        let checkpoint = try upstreamCheckpoint(from: fixture)
        var weights = fixture.weights
        weights["final_layer.linear.bias"] = try Tensor.full([16], .double(.nan))
        let poisoned = try upstreamCheckpoint(from: fixture, weights: weights, name: "nan.ckpt")
        let x = try fixture.tensor("x"), t = try fixture.tensor("t")
        var values = try x.toArray(Float.self)
        values[0] = -.infinity
        let inputs: [String: [String: Tensor]] = [
            "intx": ["x": try x.to(.int64), "t": t],
            "nanx": ["x": try Tensor(values, shape: x.shape), "t": t],
            "floatt": ["x": x, "t": try t.to(.float32)],
            "ok": ["x": x, "t": t],
        ]
        for (name, tensors) in inputs { try SafeTensors.write(tensors, to: path("\(name).safetensors")) }
        func forward(_ input: String, _ weights: String = checkpoint) -> [String] {
            ["forward", "--checkpoint", weights, "--input", path("\(input).safetensors"), "--output", path("x.safetensors")]
        }
        let clip = try FixtureFile("diffusion/dfot_cli_path")
        var clipWeights = clip.weights
        clipWeights["final_layer.linear.bias"] = try Tensor.full([clipWeights["final_layer.linear.bias"]!.count], .double(.nan))
        let poisonedClip = try upstreamCheckpoint(from: clip, compiled: false, weights: clipWeights, name: "nanclip.ckpt")
        try SafeTensors.write(["context": try clip.tensor("context"), "action": try clip.tensor("action")], to: path("clip.safetensors"))
        try assertEachFailsWithOneLine([
            ("integer x", forward("intx"), "'x' is torch.int64"),
            ("Inf in x", forward("nanx"), "'x' has 1 NaN/Inf value(s)"),
            ("floating t", forward("floatt"), "'t' is torch.float32; timesteps are integers"),
            ("NaN weights (forward)", forward("ok", poisoned), "the output holds 1536 NaN/Inf value(s) of 1536"),
            ("NaN weights (sample)", ["sample", "--checkpoint", poisonedClip, "--input", path("clip.safetensors"),
                                      "--output", path("x.safetensors"), "--steps", "1"], "NaN/Inf value(s)"),
        ])
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
