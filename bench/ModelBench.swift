import Foundation
import NanoWM
import SwiftTorch
import NanoWMCore

/// Whole-model time against upstream's PyTorch NanoWM, imported from a checkout the user gives
/// (nothing of it is copied here): eval forward under no_grad, and a training-mode forward +
/// backward. Both sides load the same weights and inputs from one safetensors file this
/// process writes, and run on the same number of threads.
func benchModel(threads: Int, reference: String?) throws {
    guard let reference = try checkedReference(reference, suite: "model") else { return }
    try Torch.setNumThreads(threads)
    let models: [(label: String, config: NanoWMConfig, iterations: Int)] = [
        ("tiny D64x4 8x8", NanoWMConfig(inputSize: 8, patchSize: 2, inChannels: 4, hiddenSize: 64, depth: 4, numHeads: 4,
                                        numFrames: 4, useAction: true, actionDim: 10, causal: true), 20),
        ("S/2 16x16", try NanoWMConfig(variant: "NanoWM-S/2", inputSize: 16, inChannels: 4, numFrames: 4,
                                       useAction: true, actionDim: 10, actionInjection: .additive, causal: true), 1),
    ]
    let batch = 2
    var rows: [(String, Double, Double)] = []
    for (index, entry) in models.enumerated() {
        let config = entry.config
        let bench = try BenchModel(config, seed: UInt64(100 + index))
        try manualSeed(UInt64(200 + index))
        let x = try Tensor.randn([batch, config.numFrames, config.inChannels, config.inputSize, config.inputSize])
        let t = try Tensor.randint(0, 1000, [batch, config.numFrames])
        let action = try Tensor.randn([batch, config.numFrames, config.actionDim!])
        let shared = try bench.write(inputs: ["x": x, "t": t, "action": action], name: "model\(index)")
        defer { removeBenchFiles(shared) }
        let outPath = shared + ".out.safetensors"
        let setup = referenceModelSetup(reference: reference, config: config, shared: shared) + """
        x, t, action = data['x'], data['t'], data['action']
        with torch.no_grad():
            save_file({'out': model.eval()(x, t, y=None, action=action).contiguous()}, \(pythonString(outPath)))

        """
        let trainStatement = """
        model.zero_grad(set_to_none=True)
        model(x, t, y=None, action=action).square().mean().backward()
        """
        let cases = [
            BenchCase(name: "\(entry.label) forward", iterations: entry.iterations, swift: {
                try withNoGrad { _ = try bench.model(x, t: t, action: action) }
            }, torchSetup: setup + "model.eval()", torchStatement: "with torch.no_grad(): model(x, t, y=None, action=action)"),
            BenchCase(name: "\(entry.label) fwd+bwd", iterations: entry.iterations, swift: {
                for p in bench.parameters { try p.zeroGrad() }
                try bench.model(x, t: t, action: action).square().mean().backward()
            }, torchSetup: setup + "model.train()", torchStatement: trainStatement),
        ]
        let torch = try runTorchBaseline([
            "threads": threads,
            "cases": cases.map { ["name": $0.name, "setup": $0.torchSetup, "stmt": $0.torchStatement, "iters": $0.iterations] },
        ])
        // Same weights and inputs: the outputs agree (checked once, untimed).
        bench.model.eval()
        let ours = try withNoGrad { try bench.model(x, t: t, action: action) }
        let diff = try maxAbsDifference(ours, try SafeTensors.read(outPath).tensors["out"]!)
        print(String(format: "%@: %d parameters, forward max|Swift - PyTorch| = %.3g", entry.label,
                     bench.parameters.reduce(0) { $0 + $1.count }, diff))
        for benchCase in cases {
            if benchCase.name.hasSuffix("fwd+bwd") { bench.model.train() } else { bench.model.eval() }
            try benchCase.swift()  // warm-up, as the PyTorch side's setup ran the model once
            let ours = try secondsPerIteration(benchCase.iterations, benchCase.swift)
            guard let theirs = torch[benchCase.name] as? Double else { throw BenchError("no PyTorch time for \(benchCase.name)") }
            rows.append((benchCase.name, ours * 1000, theirs * 1000))
        }
    }
    printComparison(title: "NanoWM vs upstream PyTorch model, batch \(batch), 4 frames, actions (additive), causal, "
                    + "\(threads) thread(s), best of 5", unit: "ms", rows: rows, goal: 0.8)
}

/// A NanoWM with reproducible non-trivial weights (every tensor, zero-initialised ones too,
/// drawn from one seeded generator in state-dict order: 0.02·randn), saved for the PyTorch side.
struct BenchModel {
    let model: NanoWMModel
    let parameters: [Tensor]

    init(_ config: NanoWMConfig, seed: UInt64) throws {
        try manualSeed(seed)
        let model = try NanoWMModel(config)
        let generator = try Generator(seed: seed)
        try withNoGrad {
            for (_, tensor) in model.stateDict() { _ = try tensor.copy_(Tensor.randn(tensor.shape, generator: generator) * 0.02) }
        }
        self.model = model
        parameters = model.parameters()
    }

    /// Writes `weights.<key>` and `inputs` to a temporary safetensors file; returns its path
    /// without the extension (other files of the run go beside it).
    func write(inputs: [String: Tensor], name: String) throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-bench-\(getpid())-\(name)").path
        var tensors = inputs
        for (key, tensor) in model.stateDict() { tensors["weights." + key] = tensor }
        try SafeTensors.write(tensors, to: base + ".safetensors")
        return base
    }
}

/// Python that imports upstream's model from `reference` (with the fixture script's stand-ins
/// for timm/einops), builds it with `config` and loads the weights and inputs of `shared`:
/// leaves `ref`, `model`, `data` and `save_file` in scope.
func referenceModelSetup(reference: String, config: NanoWMConfig, shared: String) -> String {
    let fixtures = FileManager.default.currentDirectoryPath + "/Tests/Fixtures"
    let arguments = String(decoding: try! JSONSerialization.data(withJSONObject: config.referenceArguments, options: [.sortedKeys]), as: UTF8.self)
    return """
    import json, sys
    sys.path.insert(0, \(pythonString(fixtures)))
    import make_nanowm_fixtures as nf
    from safetensors.torch import load_file, save_file
    ref = nf.load_reference(\(pythonString(reference)))
    data = load_file(\(pythonString(shared + ".safetensors")))
    model = ref.NanoWM(**json.loads(\(pythonString(arguments))))
    model.load_state_dict({k[8:]: v for k, v in data.items() if k.startswith('weights.')}, strict=True)

    """
}

/// Removes the files a run wrote beside `base` (see `BenchModel.write`).
func removeBenchFiles(_ base: String) {
    for suffix in [".safetensors", ".out.safetensors", ".samples.safetensors"] {
        try? FileManager.default.removeItem(atPath: base + suffix)
    }
}

/// The upstream checkout the reference suites import, or nil (after a note) when not given.
func checkedReference(_ path: String?, suite: String) throws -> String? {
    guard let path, !path.isEmpty else {
        print("\(suite): skipped; give upstream's checkout with --reference PATH or NANOWM_REFERENCE=PATH "
              + "(git clone https://github.com/simchowitzlabpublic/nano-world-model)")
        return nil
    }
    let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
    guard FileManager.default.fileExists(atPath: absolute + "/src/models/nanowm.py") else {
        throw BenchError("\(absolute) is not a nano-world-model checkout (no src/models/nanowm.py)")
    }
    return absolute
}

/// `text` as a Python string literal.
func pythonString(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        .replacingOccurrences(of: "\n", with: "\\n") + "'"
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
    try (a.to(.float64) - b.to(.float64)).abs().max().item(Double.self)
}
