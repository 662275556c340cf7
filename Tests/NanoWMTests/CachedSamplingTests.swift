import Foundation
import NanoWM
import NanoWMCore
import SwiftTorch
import TestSupport
import XCTest

/// Cached causal sampling against uncached sampling (which the parity tests hold to the
/// reference bit for bit). Both compute the same mathematics; the cached path multiplies
/// matrices over fewer rows, so results differ by float32 rounding. The bound used here is
/// the computation's own: the same model in float64 gives the exact answer to within float64
/// rounding, the uncached float32 result's distance from it is float32's error for this
/// computation, and the cached result must be no further from the float64 answer than 4 times
/// that distance (rounding errors of a reordered sum are of the same size, not the same value).
final class CachedSamplingTests: XCTestCase {
    private static let frames = 5

    /// A causal model with random weights everywhere (a fresh model's zero-initialised adaLN
    /// and output layers would make every output zero), in float32 and as a float64 copy.
    private func models(_ injection: ActionInjection?, seed: UInt64 = 7) throws -> (NanoWMModel, NanoWMModel) {
        func make() throws -> NanoWMModel {
            try manualSeed(seed)
            let model = try NanoWMModel(NanoWMConfig(inputSize: 8, patchSize: 2, inChannels: 3, hiddenSize: 32, depth: 4,
                                                     numHeads: 2, numFrames: Self.frames, useAction: injection != nil,
                                                     actionDim: injection == nil ? nil : 2, actionInjection: injection ?? .additive,
                                                     causal: true))
            try withNoGrad { for parameter in model.parameters() { _ = try parameter.normal_(std: 0.3) } }
            model.eval()
            return model
        }
        let double = try make()
        try double.to(.cpu, dtype: .float64)
        return (try make(), double)
    }

    /// max |a − b| in float64.
    private func distance(_ a: Tensor, _ b: Tensor) throws -> Double { try maxAbsDifference(a, b) }

    private func assertWithinRounding(cached: Tensor, uncached: Tensor, exact: Tensor, _ what: String,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let float32Error = try distance(uncached, exact)
        let cachedError = try distance(cached, exact)
        XCTAssertGreaterThan(try distance(exact, try Tensor.zeros(like: exact)), 1e-3, "\(what): the outputs are not trivial", file: file, line: line)
        XCTAssertLessThanOrEqual(cachedError, 4 * float32Error + 1e-12,
                                 "\(what): cached is \(cachedError) from float64, uncached \(float32Error)", file: file, line: line)
    }

    /// One forward: frame k predicted from itself and the committed frames before it equals
    /// frame k of the whole-clip forward, for every frame and every action injection.
    func testFrameByFrameForwardEqualsTheWholeClipForward() throws {
        for injection in [nil] + ActionInjection.allCases.map(Optional.some) {
            let (model, exactModel) = try models(injection)
            try manualSeed(1)
            let x = try Tensor.randn([2, Self.frames, 3, 8, 8])
            let t = try Tensor.randint(0, 1000, [2, Self.frames])
            let action = injection == nil ? nil : try Tensor.randn([2, Self.frames, 2])
            try withNoGrad {
                let whole = try model(x, t: t, action: action)
                let exact = try exactModel(x.to(.float64), t: t, action: action?.to(.float64))
                let cached = try XCTUnwrap(try model.frameByFrame(actions: action))
                var frames: [Tensor] = []
                for k in 0..<Self.frames {
                    let frame = try x.narrow(dim: 1, start: k, length: 1), level = try t.narrow(dim: 1, start: k, length: 1)
                    frames.append(try cached.predict(frame, k, level))
                    try cached.commit(frame, k, level)
                }
                try assertWithinRounding(cached: try Tensor.cat(frames, dim: 1), uncached: whole, exact: exact,
                                         "injection \(injection?.rawValue ?? "none")")
                // The first k frames committed in one pass give the later frames the same context.
                for k in 2..<Self.frames {
                    let blocked = try XCTUnwrap(try model.frameByFrame(actions: action))
                    try XCTUnwrap(blocked.commitFirst)(x.narrow(dim: 1, start: 0, length: k), t.narrow(dim: 1, start: 0, length: k))
                    var later: [Tensor] = []
                    for j in k..<Self.frames {
                        let frame = try x.narrow(dim: 1, start: j, length: 1), level = try t.narrow(dim: 1, start: j, length: 1)
                        later.append(try blocked.predict(frame, j, level))
                        try blocked.commit(frame, j, level)
                    }
                    let rest = Self.frames - k
                    try assertWithinRounding(cached: try Tensor.cat(later, dim: 1), uncached: whole.narrow(dim: 1, start: k, length: rest),
                                             exact: exact.narrow(dim: 1, start: k, length: rest),
                                             "injection \(injection?.rawValue ?? "none"), first \(k) frames committed at once")
                }
            }
        }
        let plain = try NanoWMModel(NanoWMConfig(inputSize: 8, patchSize: 2, inChannels: 3, hiddenSize: 32, depth: 2,
                                                 numHeads: 2, numFrames: 3))
        XCTAssertNil(try plain.frameByFrame(actions: nil), "a model whose frames see later frames has no cached form")
    }

    /// Whole sampling runs, same seed: ε, x and v diffusion and flow matching, with and without
    /// history stabilisation, two context frames. The float64 reference samples with the
    /// float64 network (the sampler's own arithmetic stays float32 in both).
    func testCachedSamplingEqualsUncachedSampling() throws {
        let (model, exactModel) = try models(.adaln)
        let action = try Tensor.randn([2, Self.frames, 2])
        let processes: [(String, DiffusionProcess)] = [
            ("epsilon", try GaussianDiffusion(schedule: .squaredcosCapV2, target: .epsilon, zeroTerminalSNR: false, samplingSteps: 6)),
            ("x", try GaussianDiffusion(schedule: .linear, target: .x, zeroTerminalSNR: false, samplingSteps: 6)),
            ("v", try GaussianDiffusion(schedule: .squaredcosCapV2, target: .v, zeroTerminalSNR: true, samplingSteps: 6)),
            ("flow", FlowMatching()),
        ]
        try manualSeed(2)
        let context = try Tensor.randn([2, 2, 3, 8, 8])
        for (name, process) in processes {
            for stabilization in [0.0, 0.02] {
                var options = SamplingOptions()
                options.steps = 6
                options.historyStabilization = stabilization
                func run(_ network: @escaping Denoiser, cached: Bool) throws -> Tensor {
                    options.cachedCausal = cached
                    try manualSeed(11)
                    return try withNoGrad {
                        try DiffusionForcingSampler(process: process, options: options).sample(
                            network, shape: [2, Self.frames, 3, 8, 8], context: context, contextFrames: 2,
                            frameByFrame: try model.frameByFrame(actions: action))
                    }
                }
                let float32: Denoiser = { x, t in try model(x, t: t, action: action) }
                let float64: Denoiser = { x, t in try exactModel(x.to(.float64), t: t, action: action.to(.float64)).to(.float32) }
                try assertWithinRounding(cached: try run(float32, cached: true), uncached: try run(float32, cached: false),
                                         exact: try run(float64, cached: false), "\(name), stabilisation \(stabilization)")
            }
        }
    }

    /// A sliding-window rollout past the window: each window starts a fresh cache on its
    /// re-noised context; cross-attention injection, ε diffusion.
    func testCachedRolloutEqualsUncachedRollout() throws {
        let (model, exactModel) = try models(.crossAttention)
        let process = try GaussianDiffusion(schedule: .squaredcosCapV2, target: .epsilon, zeroTerminalSNR: false, samplingSteps: 4)
        var options = SamplingOptions()
        options.steps = 4
        try manualSeed(3)
        let context = try Tensor.randn([1, 3, 3, 8, 8]), actions = try Tensor.randn([1, 9, 2])
        func run(_ network: @escaping (Tensor, Tensor, Tensor?) throws -> Tensor, cached: Bool) throws -> Tensor {
            options.cachedCausal = cached
            let rollout = try SlidingWindowRollout(process: process, options: options, window: Self.frames, history: 3)
            try manualSeed(12)
            return try withNoGrad {
                try rollout.generate(network, context: context, actions: actions, length: 9,
                                     frameByFrame: { try model.frameByFrame(actions: $0) })
            }
        }
        let float32: (Tensor, Tensor, Tensor?) throws -> Tensor = { x, t, a in try model(x, t: t, action: a) }
        let float64: (Tensor, Tensor, Tensor?) throws -> Tensor = { x, t, a in
            try exactModel(x.to(.float64), t: t, action: a?.to(.float64)).to(.float32)
        }
        try assertWithinRounding(cached: try run(float32, cached: true), uncached: try run(float32, cached: false),
                                 exact: try run(float64, cached: false), "rollout")
    }

    /// Training's validation samples and the quickstart's evaluation (WorldModelEvaluation)
    /// sample cached: the prediction differs from the uncached one in its last bits (so the
    /// cached path ran) and lies within the bound of the float64 answer, which is computed here
    /// as `predict` computes it (pixel latents, the same seed, decoded to [0, 1]).
    func testWorldModelEvaluationSamplesCached() throws {
        let (model, exactModel) = try models(.additive)
        let process = try GaussianDiffusion(schedule: .squaredcosCapV2, target: .x, zeroTerminalSNR: true, samplingSteps: 5)
        var options = SamplingOptions()
        options.steps = 5
        options.historyStabilization = 0.02
        try manualSeed(4)
        let video = try Tensor.rand([2, Self.frames, 3, 8, 8]), actions = try Tensor.randn([2, Self.frames, 2])
        func predict(cached: Bool) throws -> Tensor {
            options.cachedCausal = cached
            return try WorldModelEvaluation(model: model, codec: PixelCodec(), process: process, options: options, contextFrames: 2, seed: 9)
                .predict(video, actions: actions)
        }
        options.cachedCausal = false
        try manualSeed(9)
        let clips = ClipCodec(PixelCodec())
        let latents = try clips.latents(ofDatasetClips: video)
        let exact = try ClipCodec.unit(try clips.decode(try withNoGrad {
            try DiffusionForcingSampler(process: process, options: options).sample(
                { x, t in try exactModel(x.to(.float64), t: t, action: actions.to(.float64)).to(.float32) },
                shape: latents.shape, context: latents, contextFrames: 2)
        }))
        let cached = try predict(cached: true), uncached = try predict(cached: false)
        XCTAssertTrue(try cached.bytes() != uncached.bytes(), "WorldModelEvaluation did not take the cached path")
        try assertWithinRounding(cached: cached, uncached: uncached, exact: exact, "WorldModelEvaluation")
    }

    /// Pyramid and full-sequence schedules move several frames a step: they ignore the cached
    /// form and give uncached sampling's bits.
    func testOtherSchedulesStayUncached() throws {
        let (model, _) = try models(nil)
        let process = try GaussianDiffusion(schedule: .linear, target: .epsilon, zeroTerminalSNR: false, samplingSteps: 3)
        try manualSeed(4)
        let context = try Tensor.randn([1, 1, 3, 8, 8])
        for mode in [SchedulingMode.pyramid, .fullSequence] {
            var options = SamplingOptions()
            options.steps = 3
            options.mode = mode
            func run(_ frameByFrame: FrameByFrame?) throws -> Tensor {
                try manualSeed(13)
                return try withNoGrad {
                    try DiffusionForcingSampler(process: process, options: options).sample(
                        { x, t in try model(x, t: t) }, shape: [1, Self.frames, 3, 8, 8], context: context, contextFrames: 1,
                        frameByFrame: frameByFrame)
                }
            }
            try assertExactlyEqual(try run(try model.frameByFrame(actions: nil)), try run(nil), mode.rawValue)
        }
    }
}
