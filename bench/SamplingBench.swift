import Foundation
import NanoWM
import SwiftTorch
import NanoWMCore

/// Diffusion-forcing sampling time against upstream's `dfot_sample`, set up as upstream's
/// sampling script does it: v-prediction, cosine schedule with zero terminal SNR respaced to
/// the step count, sequential scheduling, DDIM eta 0, history stabilisation 0.02. One context
/// frame and seven generated frames of a causal model, timed uncached (every step runs the
/// window, as upstream) and cached (each step runs the new frame on its cached context);
/// same weights, context and actions on both sides (one safetensors file), same threads.
/// Three models (among them the quickstart's: D128×4 on 32² pixels in 8² patches, 2-D
/// actions, whose long rollout issue #25 measured), each at batch 1 and 4. Before timing,
/// each of our samplers' outputs for the same seed is compared with upstream's.
func benchSampling(threads: Int, reference: String?, steps: Int) throws {
    guard let reference = try checkedReference(reference, suite: "sample") else { return }
    try Torch.setNumThreads(threads)
    let frames = 8, contextFrames = 1, seed: UInt64 = 4321
    let architectures: [(label: String, config: NanoWMConfig, iterations: Int)] = [
        ("tiny D64x4 8²", NanoWMConfig(inputSize: 8, patchSize: 2, inChannels: 4, hiddenSize: 64, depth: 4, numHeads: 4,
                                        numFrames: frames, useAction: true, actionDim: 10, causal: true), 3),
        ("quickstart D128x4 32²/8", NanoWMConfig(inputSize: 32, patchSize: 8, inChannels: 3, hiddenSize: 128, depth: 4, numHeads: 4,
                                                  numFrames: frames, useAction: true, actionDim: 2, causal: true), 2),
        ("small D128x4 16²", NanoWMConfig(inputSize: 16, patchSize: 2, inChannels: 4, hiddenSize: 128, depth: 4, numHeads: 4,
                                            numFrames: frames, useAction: true, actionDim: 10, causal: true), 1),
    ]
    let models = architectures.flatMap { entry in [1, 4].map { (label: "\(entry.label) b\($0)", config: entry.config, iterations: entry.iterations, batch: $0) } }
    var options = SamplingOptions()
    options.mode = .sequential
    options.steps = steps
    options.eta = 0
    options.historyStabilization = 0.02
    let process = try GaussianDiffusion(schedule: .squaredcosCapV2, target: .v, zeroTerminalSNR: true, snrGamma: 5,
                                        samplingSteps: steps)
    var cachedOptions = options
    options.cachedCausal = false
    let sampler = DiffusionForcingSampler(process: process, options: options)
    cachedOptions.cachedCausal = true
    let cachedSampler = DiffusionForcingSampler(process: process, options: cachedOptions)
    var rows: [(String, Double, Double)] = []
    for (index, entry) in models.enumerated() {
        let (config, batch) = (entry.config, entry.batch)
        let bench = try BenchModel(config, seed: UInt64(300 + index))
        bench.model.eval()
        try manualSeed(UInt64(400 + index))
        let shape = [batch, frames, config.inChannels, config.inputSize, config.inputSize]
        let context = try Tensor.randn([batch, contextFrames] + Array(shape[2...]))
        let action = try Tensor.randn([batch, frames, config.actionDim!])
        let shared = try bench.write(inputs: ["context": context, "action": action], name: "sample\(index)")
        defer { removeBenchFiles(shared) }
        let samplesPath = shared + ".samples.safetensors"
        let statement = """
        torch.manual_seed(\(seed))
        with torch.no_grad():
            samples = df.dfot_sample(
                diffusion=diffusion, model=model, shape=\(pythonTuple(shape)), context=context, n_context_frames=\(contextFrames),
                scheduling_mode='sequential', num_sampling_steps=\(steps),
                model_kwargs=dict(y=None, use_fp16=False, action=action), device='cpu', progress=False,
                eta=0.0, clip_denoised=False, history_stabilization_level=0.02)
        """
        let setup = referenceModelSetup(reference: reference, config: config, shared: shared) + """
        import make_diffusion_fixtures as mdf
        import diffusion as diffusion_package
        import diffusion.df_sample as df
        model.eval()
        context, action = data['context'], data['action']
        diffusion = mdf.create_diffusion(types.SimpleNamespace(diffusion=diffusion_package), 'v', respacing=str(\(steps)))
        \(statement)
        save_file({'samples': samples.contiguous()}, \(pythonString(samplesPath)))

        """
        let name = "\(entry.label) \(steps) steps"
        let benchCase = BenchCase(name: name, iterations: entry.iterations, swift: {
            try manualSeed(seed)
            _ = try withNoGrad {
                try sampler.sample({ x, t in try bench.model(x, t: t, action: action) }, shape: shape, context: context,
                                   contextFrames: contextFrames)
            }
        }, torchSetup: "import types\n" + setup, torchStatement: statement)
        let torch = try runTorchBaseline([
            "threads": threads,
            "cases": [["name": benchCase.name, "setup": benchCase.torchSetup, "stmt": benchCase.torchStatement,
                       "iters": benchCase.iterations]],
        ])
        let cached = {
            try manualSeed(seed)
            return try withNoGrad {
                try cachedSampler.sample({ x, t in try bench.model(x, t: t, action: action) }, shape: shape, context: context,
                                         contextFrames: contextFrames, frameByFrame: try bench.model.frameByFrame(actions: action))
            }
        }
        // The same seed gives the same samples on both sides (checked once, untimed).
        try manualSeed(seed)
        let ours = try withNoGrad {
            try sampler.sample({ x, t in try bench.model(x, t: t, action: action) }, shape: shape, context: context,
                               contextFrames: contextFrames)
        }
        let upstream = try SafeTensors.read(samplesPath).tensors["samples"]!
        for (label, samples) in [("uncached", ours), ("cached", try cached())] {
            let diff = try maxAbsDifference(samples, upstream)
            print(String(format: "%@ %@: samples max|Swift - PyTorch| = %.3g (same seed; %@ 1e-4)", entry.label, label, diff,
                         diff <= 1e-4 ? "within" : "NOT within"))
        }
        let oursSeconds = try secondsPerIteration(benchCase.iterations, benchCase.swift)
        let cachedSeconds = try secondsPerIteration(benchCase.iterations) { _ = try cached() }
        guard let theirs = torch[benchCase.name] as? Double else { throw BenchError("no PyTorch time for \(benchCase.name)") }
        rows.append((entry.label + " uncached", oursSeconds * 1000, theirs * 1000))
        rows.append((entry.label + " cached", cachedSeconds * 1000, theirs * 1000))
        let generated = Double(batch * (frames - contextFrames))
        print(String(format: "%@: generated frames/s uncached %.1f, cached %.1f, PyTorch %.1f", entry.label,
                     generated / oursSeconds, generated / cachedSeconds, generated / theirs))
    }
    printComparison(title: "Sequential diffusion-forcing sampling, \(steps) steps, 1 context + 7 generated frames, "
                    + "\(threads) thread(s), best of 5", unit: "ms", rows: rows, goal: 0.8)
}

private func pythonTuple(_ values: [Int]) -> String {
    "(" + values.map(String.init).joined(separator: ", ") + ")"
}
