import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

/// Diffusion forcing against the reference's own code, through Tests/Fixtures/diffusion
/// (made by make_diffusion_fixtures.py from the reference repository): schedules, losses,
/// timestep sampling, scheduling matrices, seeded sampling in every mode and a long rollout.
final class DiffusionParityTests: XCTestCase {
    /// Float32 results are judged by `FixtureFile.assertAgrees`: within a small multiple of the
    /// reference's own float32 error, measured against the float64 replay stored with each
    /// fixture (ε-prediction amplifies it by up to 1/√ᾱ, and the replay measures that too).
    /// Random draws are compared bit for bit with PyTorch running live on this machine, because
    /// the draw kernels themselves differ between CPU capabilities.
    ///
    /// The fixtures were computed on one thread; CPU reductions round differently with more.
    private var savedThreads = 1
    override func setUpWithError() throws {
        savedThreads = try Torch.numThreads
        try Torch.setNumThreads(1)
    }
    override func tearDownWithError() throws { try Torch.setNumThreads(savedThreads) }

    // MARK: - Schedules

    func testScheduleTablesEqualReferenceInFloat64() throws {
        for schedule in NoiseSchedule.allCases {
            for ztsnr in [false, true] {
                let fixture = try FixtureFile("diffusion/schedule_\(schedule.rawValue)_ztsnr\(ztsnr ? 1 : 0)")
                let diffusion = try GaussianDiffusion(schedule: schedule, target: .v, zeroTerminalSNR: ztsnr, snrGamma: 5)
                let ours = try Tensor(diffusion.alphasCumprod, shape: [1000])
                // Same float64 operations in the same order as numpy: equal to the last bit
                // or within 1 ulp where libm and numpy differ.
                try assertClose(ours, fixture.tensor("alphas_cumprod"), atol: 1e-15, "\(fixture.name) alphas_cumprod")
            }
        }
    }

    func testRespacingAndSchedulingMatricesEqualReference() throws {
        let fixture = try FixtureFile("diffusion/respacing")
        for (key, expected) in fixture.tensors {
            let parts = key.split(separator: ".").map(String.init)
            switch parts[0] {
            case "timestep_map" where parts[1].hasPrefix("S"):
                let steps = Int(parts[1].dropFirst())!
                XCTAssertEqual(try spacedTimesteps(1000, sectionCounts: [steps]), try expected.toArray(Int64.self).map(Int.init), key)
            case "matrix":
                // matrix.<mode>.F<F>.ctx<c>.S<S>.T<T>
                let mode = try SchedulingMode(name: parts[1])
                let number = { (i: Int, prefix: String) in Int(parts[i].dropFirst(prefix.count))! }
                let matrix = try schedulingMatrix(frames: number(2, "F"), contextFrames: number(3, "ctx"), timesteps: number(5, "T"),
                                                  steps: number(4, "S"), mode: mode)
                XCTAssertEqual(matrix.flatMap { $0 }, try expected.toArray(Int64.self).map(Int.init), key)
                XCTAssertEqual([matrix.count, matrix.first?.count ?? 0], expected.shape, key)
            default:
                continue
            }
        }
    }

    // MARK: - Training losses

    func testTrainingLossesEqualReferenceForEveryTargetScheduleAndWeighting() throws {
        let fixture = try FixtureFile("diffusion/training_losses")
        let x0 = try fixture.tensor("x0"), noise = try fixture.tensor("noise")
        // The reference's toy model: 0.5·x_t + 1e-3·t, t broadcast per frame or per sample.
        let toy: Denoiser = { x, t in try x * 0.5 + (t.to(.float32) * 1e-3).withTrailingDimensions(toRank: 5) }
        var checked = 0
        for case let name as String in try fixture.json("cases") as? [Any] ?? [] {
            let p = name.split(separator: ".").map(String.init) // target.schedule.ztsnrN.snrG
            guard p.count == 4 else { continue } // flow is compared below
            let process = try GaussianDiffusion(schedule: NoiseSchedule(rawValue: p[1])!, target: PredictionTarget(name: p[0]),
                                                zeroTerminalSNR: p[2] == "ztsnr1", snrGamma: Double(p[3].dropFirst(3))!)
            try compareLosses(process, name, fixture, toy, x0, noise)
            checked += 1
        }
        try compareLosses(FlowMatching(), "flow", fixture, toy, x0, noise)
        XCTAssertEqual(checked, 24, "3 targets × 2 schedules × ZTSNR × snr_gamma")
    }

    private func compareLosses(_ process: DiffusionProcess, _ name: String, _ fixture: FixtureFile, _ model: @escaping Denoiser,
                               _ x0: Tensor, _ noise: Tensor) throws {
        for shape in ["frame", "clip"] {
            let t = try fixture.tensor("t_\(shape)")
            let key = "\(name).\(shape)"
            let terms = try process.trainingLosses(model, x0: x0, t: t, noise: noise)
            try fixture.assertAgrees(terms.mse, "\(key).mse")
            try fixture.assertAgrees(terms.loss, "\(key).loss")
            try fixture.assertAgrees(process.qSample(x0, t: t, noise: noise), "\(key).x_t")
        }
    }

    /// Upstream's draws (`sample_training_timesteps`, documented in the fixture's `calls`),
    /// bit for bit against PyTorch live on this machine; and against the reference's own
    /// output wherever this machine's normal-draw kernel gives the fixture machine's values
    /// (the fixture stores the normal draws `u` for that check).
    func testTrainingTimestepSamplingReplaysReferenceDraws() throws {
        let fixture = try FixtureFile("diffusion/timestep_sampling")
        var comparedWithFixture = 0
        for case let run as [String: Any] in try fixture.json("runs") as? [Any] ?? [] {
            let key = run["key"] as! String, strategy = run["strategy"] as! String, seed = run["seed"] as! Int
            let mean = run["mean"] as! Double, std = run["std"] as! Double, shape = run["shape"] as! [Int]
            let sampling = try TimestepSampling(name: strategy, mean: mean, std: std)
            try manualSeed(UInt64(seed))
            let t = try sampling.sample(shape, timesteps: 1000)
            let live = try PyTorchBaseline.shared.run("""
            torch.manual_seed(\(seed))
            if \(pythonString(strategy)) == 'uniform':
                O['t'] = torch.randint(0, 1000, \(shape))
            else:
                O['u'] = torch.randn(\(shape)) * \(std) + \(mean)
                O['t'] = (torch.sigmoid(O['u']) * 1000).long().clamp(max=999)
            """)
            try assertExactlyEqual(t, live["t"], "\(key) vs live PyTorch")
            let sameDraws = try live["u"].map { try $0.bytes() == fixture.tensor("\(key).u").bytes() } ?? true
            if sameDraws {
                try assertExactlyEqual(t, fixture.tensor("\(key).t"), "\(key) vs reference")
                comparedWithFixture += 1
            }
        }
        print("timestep draws: \(comparedWithFixture) of 7 runs also compared with the reference's own output")
    }

    /// One seeded training step of the tiny NanoWM: t, then noise (bit for bit against live
    /// PyTorch), then the loss on the reference's own t and noise (against the fixture).
    func testSeededTrainingStepOfTinyModelEqualsReference() throws {
        let fixture = try FixtureFile("diffusion/train_step_tiny")
        let model = try Self.tinyModel(fixture)
        let process = try GaussianDiffusion(schedule: .squaredcosCapV2, target: .v, zeroTerminalSNR: true, snrGamma: 5)
        let x = try fixture.tensor("x"), action = try fixture.tensor("action")
        for (strategy, seed) in [("logit_normal", 3407), ("uniform", 3408)] {
            try manualSeed(UInt64(seed))
            let t = try TimestepSampling(name: strategy).sample([2, 3], timesteps: 1000)
            let noise = try Tensor.randn(like: x)
            let live = try PyTorchBaseline.shared.run("""
            torch.manual_seed(\(seed))
            if \(pythonString(strategy)) == 'uniform':
                O['t'] = torch.randint(0, 1000, (2, 3))
            else:
                O['t'] = (torch.sigmoid(torch.randn(2, 3)) * 1000).long().clamp(max=999)
            O['noise'] = torch.randn_like(I['x'])
            """, inputs: ["x": x])
            try assertExactlyEqual(t, live["t"], "\(strategy) t")
            try assertExactlyEqual(noise, live["noise"], "\(strategy) noise")
            let referenceT = try fixture.tensor("\(strategy).t"), referenceNoise = try fixture.tensor("\(strategy).noise")
            let terms = try withNoGrad {
                try process.trainingLosses({ try model($0, t: $1, action: action) }, x0: x, t: referenceT, noise: referenceNoise)
            }
            try fixture.assertAgrees(terms.loss, "\(strategy).loss")
        }
    }

    // MARK: - Sampling

    /// Every scheduling mode, with and without history stabilisation, on both of upstream's
    /// paths: the 1000-step process (training-time validation) and the process respaced to
    /// the step count (upstream's sampling and rollout scripts).
    func testSeededSamplingEqualsReferenceInEveryMode() throws {
        for (file, respaced) in [("dfot_train_path", false), ("dfot_cli_path", true)] {
            let fixture = try FixtureFile("diffusion/" + file)
            let model = try Self.tinyModel(fixture)
            let context = try fixture.tensor("context"), action = try fixture.tensor("action")
            for case let run as [String: Any] in try fixture.json("runs") as? [Any] ?? [] {
                let key = run["key"] as! String
                let steps = run["num_sampling_steps"] as! Int
                let process = try GaussianDiffusion(schedule: .squaredcosCapV2, target: try PredictionTarget(name: run["pred_name"] as! String),
                                                    zeroTerminalSNR: run["zero_terminal_snr"] as! Bool, snrGamma: 5,
                                                    samplingSteps: respaced ? steps : nil)
                let samples = try Self.sample(model, process, run, context: context, action: action)
                try fixture.assertAgrees(samples, "\(key).samples")
            }
        }
    }

    func testEpsilonXAndFlowSamplingEqualReference() throws {
        let fixture = try FixtureFile("diffusion/dfot_preds_flow")
        let model = try Self.tinyModel(fixture)
        let context = try fixture.tensor("context"), action = try fixture.tensor("action")
        for case let run as [String: Any] in try fixture.json("runs") as? [Any] ?? [] {
            let key = run["key"] as! String
            let target = try PredictionTarget(name: run["pred_name"] as! String)
            let process: DiffusionProcess = target == .flow ? FlowMatching() : try GaussianDiffusion(
                schedule: NoiseSchedule(rawValue: run["noise_schedule"] as! String)!, target: target,
                zeroTerminalSNR: run["zero_terminal_snr"] as! Bool, snrGamma: 5)
            let samples = try Self.sample(model, process, run, context: context, action: action)
            try fixture.assertAgrees(samples, "\(key).samples")
        }
    }

    /// Sliding-window rollouts far beyond the 3-frame window, through upstream's rollout
    /// script: actions regrouped per frame (frame interval 2) and padded past the end.
    func testLongRolloutEqualsReference() throws {
        for name in ["rollout_h2_L10_sequential", "rollout_h1_L6_pyramid_hs0"] {
            let fixture = try FixtureFile("diffusion/" + name)
            let model = try Self.tinyModel(fixture)
            let args = try fixture.json("rollout_args") as! [String: Any]
            var options = SamplingOptions()
            options.mode = try SchedulingMode(name: args["scheduling_mode"] as! String)
            options.steps = args["num_sampling_steps"] as! Int
            options.historyStabilization = args["history_stabilization_level"] as! Double
            let process = try GaussianDiffusion(schedule: .squaredcosCapV2, target: .v, zeroTerminalSNR: true, snrGamma: 5,
                                                samplingSteps: options.steps)
            let rollout = try SlidingWindowRollout(process: process, options: options, window: 3, history: args["history_length"] as! Int)
            try manualSeed(UInt64(Int(fixture.metadata["seed"]!)!))
            let generated = try withNoGrad {
                try rollout.generate({ x, t, a in try model(x, t: t, action: a) }, context: fixture.tensor("gt_latents"),
                                     actions: fixture.tensor("raw_actions"), frameInterval: args["frame_interval"] as! Int,
                                     length: args["rollout_length"] as! Int)
            }
            try fixture.assertAgrees(generated, "generated")
        }
    }

    func testSamplerRejectsBadInputWithOneLineErrors() throws {
        let process = try GaussianDiffusion(schedule: .linear, target: .v, zeroTerminalSNR: false, samplingSteps: 4)
        let model: Denoiser = { x, _ in x }
        var options = SamplingOptions()
        options.steps = 4
        let sampler = DiffusionForcingSampler(process: process, options: options)
        let short = try Tensor.zeros([1, 1, 2, 4, 4])
        let cases: [(String, () throws -> Void)] = [
            ("context shorter than requested", { _ = try sampler.sample(model, shape: [1, 3, 2, 4, 4], context: short, contextFrames: 2) }),
            ("nothing to generate", { _ = try sampler.sample(model, shape: [1, 2, 2, 4, 4], context: short, contextFrames: 2) }),
            ("unknown mode", { _ = try SchedulingMode(name: "zigzag") }),
            ("steps < 1", { _ = try schedulingMatrix(frames: 3, contextFrames: 1, timesteps: 1000, steps: 0, mode: .sequential) }),
        ]
        for (_, body) in cases { assertOneLineError(body) }
    }

    // MARK: - Helpers

    static func tinyModel(_ fixture: FixtureFile) throws -> NanoWMModel {
        let arguments = try fixture.json("config") as! [String: Any]
        let model = try NanoWMModel(try NanoWMConfig(referenceArguments: arguments))
        try model.loadStateDict(fixture.weights)
        model.eval()
        return model
    }

    static func sample(_ model: NanoWMModel, _ process: DiffusionProcess, _ run: [String: Any], context: Tensor, action: Tensor) throws -> Tensor {
        var options = SamplingOptions()
        options.mode = try SchedulingMode(name: run["scheduling_mode"] as! String)
        options.steps = run["num_sampling_steps"] as! Int
        options.historyStabilization = run["history_stabilization_level"] as! Double
        let sampler = DiffusionForcingSampler(process: process, options: options)
        try manualSeed(UInt64(run["seed"] as! Int))
        return try withNoGrad {
            try sampler.sample({ x, t in try model(x, t: t, action: action) }, shape: [2, 3, 4, 4, 4], context: context, contextFrames: 1)
        }
    }
}
