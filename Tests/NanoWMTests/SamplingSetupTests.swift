import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

/// The one factory of sampling processes, and where sampling puts its tensors. No GPU is lent
/// to CI, so the requested device is `meta` (shapes without storage): a table or step tensor
/// that ignores the requested device shows up as `cpu`.
final class SamplingSetupTests: XCTestCase {
    private let clip = [2, 3, 4, 4, 4]

    private func setup(_ target: PredictionTarget) -> SamplingSetup {
        var setup = SamplingSetup()
        setup.target = target
        setup.options.steps = 4
        return setup
    }

    /// `nanowm sample --device cuda` passes its device here: every table must be built on it.
    func testFactoryBuildsEveryTableOnTheRequestedDevice() throws {
        for target in PredictionTarget.allCases where target != .flow {
            let (process, _) = try setup(target).make(device: .meta)
            let tables = try XCTUnwrap(process as? GaussianDiffusion).tables
            XCTAssertEqual(tables.count, 6)
            XCTAssertEqual(Set(tables.map(\.device)), [.meta], "\(target)")
            XCTAssertEqual(tables.first?.shape, [4], "respaced to the sampling steps")
        }
        XCTAssertTrue(try setup(.flow).make(device: .meta).process is FlowMatching, "flow matching has no tables")

        // Training validation and the quickstart build through the same factory.
        var settings = TrainingSettings()
        settings.samplingSteps = 3
        let (process, options) = try settings.respacedSamplingSetup().make(device: .meta)
        XCTAssertEqual(options.steps, 3)
        XCTAssertEqual(Set(try XCTUnwrap(process as? GaussianDiffusion).tables.map(\.device)), [.meta])
    }

    /// A process that records the device of every tensor the sampler hands it; its own
    /// arithmetic is left out, since libtorch has no meta kernels for `where` and `index_select`.
    private final class DeviceRecorder: DiffusionProcess {
        var devices: [String: Set<Device>] = [:]
        let numTimesteps = 1000

        func note(_ name: String, _ tensor: Tensor) { devices[name, default: []].insert(tensor.device) }

        func qSample(_ x0: Tensor, t: Tensor, noise: Tensor) throws -> Tensor {
            for (name, tensor) in ["x0": x0, "stabilisation t": t, "stabilisation noise": noise] { note(name, tensor) }
            return x0
        }

        func trainingLosses(_ model: Denoiser, x0: Tensor, t: Tensor, noise: Tensor) throws -> LossTerms {
            throw DiffusionError("not used")
        }

        func denoise(_ model: Denoiser, x: Tensor, current: Tensor, next: Tensor, eta: Double) throws -> DenoiseStep {
            for (name, tensor) in ["x": x, "current levels": current, "next levels": next] { note(name, tensor) }
            let output = try model(x, current)
            return DenoiseStep(sample: output, predictedX0: output)
        }
    }

    func testSamplerAndRolloutMakeEveryStepTensorOnTheInputsDevice() throws {
        var options = SamplingOptions()
        options.steps = 3
        let recorder = DeviceRecorder()
        var modelDevices: Set<Device> = []
        let context = try Tensor.randn([2, 2] + clip.suffix(3), device: .meta)
        let samples = try DiffusionForcingSampler(process: recorder, options: options).sample({ x, t in
            modelDevices.formUnion([x.device, t.device])
            return x
        }, shape: clip, context: context, contextFrames: 1)
        XCTAssertEqual(samples.device, .meta)

        let rollout = try SlidingWindowRollout(process: recorder, options: options, window: 3, history: 2)
        let generated = try rollout.generate({ x, t, a in
            modelDevices.formUnion([x.device, t.device, try XCTUnwrap(a).device])
            return x
        }, context: context, actions: try Tensor.zeros([2, 4, 2], device: .meta), length: 5)
        XCTAssertEqual(generated.device, .meta)
        XCTAssertEqual(generated.shape, [2, 5] + clip.suffix(3))

        XCTAssertEqual(Set(recorder.devices.keys), ["x0", "stabilisation t", "stabilisation noise", "x", "current levels", "next levels"])
        for (name, devices) in recorder.devices { XCTAssertEqual(devices, [.meta], name) }
        XCTAssertEqual(modelDevices, [.meta])
    }

    func testUnusableSettingsAreRefusedWithTheirNames() throws {
        func message(_ change: (inout SamplingSetup) -> Void) -> String {
            var setup = SamplingSetup()
            change(&setup)
            do { _ = try setup.make(device: .cpu); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { $0.options.eta = .nan }, "--eta must be a finite number ≥ 0 (got nan); 0 samples deterministically")
        XCTAssertTrue(message { $0.options.eta = -0.5 }.hasPrefix("--eta must be"))
        XCTAssertTrue(message { $0.options.steps = 0 }.hasPrefix("--steps must be at least 1"))
        XCTAssertTrue(message { $0.options.historyStabilization = 1 }.hasPrefix("--history-stabilization must lie in [0, 1)"))
        XCTAssertTrue(message { $0.options.historyStabilization = .infinity }.hasPrefix("--history-stabilization"))
        XCTAssertEqual(message { $0.options.steps = 250 }, "")

        var settings = TrainingSettings()
        settings.evaluationSamplingSteps = 0
        XCTAssertThrowsError(try settings.respacedSamplingSetup().make(device: .cpu)) {
            XCTAssertTrue("\($0)".hasPrefix("experiment.evaluation.num_sampling_steps must be at least 1"), "\($0)")
        }
    }
}
