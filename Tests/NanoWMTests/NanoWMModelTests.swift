import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

/// The NanoWM network against the reference PyTorch model, through the fixtures in
/// Tests/Fixtures/nanowm (see the README there): outputs, state-dict keys and shapes, config
/// inference, parameter counts; and, when a reference checkout is present, seeded init.
final class NanoWMModelTests: XCTestCase {
    static let fixtureDirectory = PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures/nanowm")

    /// A model fixture: the shared fixture file plus the configuration it was made with.
    struct Fixture {
        var file: FixtureFile
        var config: NanoWMConfig
        var name: String { file.name }
        var tensors: [String: Tensor] { file.tensors }
        var metadata: [String: String] { file.metadata }
        var weights: [String: Tensor] { file.weights }
    }

    static func loadFixture(_ name: String) throws -> Fixture {
        let file = try FixtureFile("nanowm/" + name)
        var arguments = try XCTUnwrap(try file.json("config") as? [String: Any], "\(name): no config metadata")
        if let arch = file.metadata["arch"] { arguments["arch"] = arch }
        return Fixture(file: file, config: try NanoWMConfig(referenceArguments: arguments))
    }

    /// Every small fixture with stored weights (tiny_* and deep_*), by name.
    static func smallFixtureNames() throws -> [String] {
        let files = try FileManager.default.contentsOfDirectory(atPath: fixtureDirectory.path)
        let names = files.filter { $0.hasSuffix(".safetensors") && ($0.hasPrefix("tiny_") || $0.hasPrefix("deep_")) }
            .map { String($0.dropLast(".safetensors".count)) }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 23, "expected the 20 tiny + 3 deep fixtures")
        return names
    }

    /// Eval mode, no grad, on one thread as the fixtures were made (CPU reduction order then
    /// matches where the kernels do). Outputs are judged by `FixtureFile.assertAgrees`: within a
    /// small multiple of the reference's own float32 error, measured against its float64 replay.
    static func forward(_ model: NanoWMModel, _ fixture: Fixture) throws -> Tensor {
        model.eval()
        let threads = try Torch.numThreads
        try Torch.setNumThreads(1)
        defer { try? Torch.setNumThreads(threads) }
        return try withNoGrad {
            try model(fixture.tensors["x"]!, t: fixture.tensors["t"]!, action: fixture.tensors["action"])
        }
    }

    // MARK: Outputs

    func testForwardMatchesReferenceOnEverySmallFixture() throws {
        var report: [String] = []
        for name in try Self.smallFixtureNames() {
            let fixture = try Self.loadFixture(name)
            let model = try NanoWMModel(fixture.config)
            let load = try model.loadStateDict(fixture.weights, strict: true)
            XCTAssertTrue(load.isClean, "\(name): \(load)")
            let out = try Self.forward(model, fixture)
            report.append("\(name)  \(try fixture.file.assertAgrees(out, "out"))")
        }
        print("NanoWM fixture parity (fp32 CPU):\n  " + report.joined(separator: "\n  "))
    }

    /// Full-size NanoWM-S/2 (4 frames, actions, causal, per-frame t). Its weights are not
    /// stored: they are regenerated from one seeded generator in state-dict order.
    func testFullSizeS2MatchesReference() throws {
        let fixture = try Self.loadFixture("s2_full")
        XCTAssertEqual(fixture.config, try NanoWMConfig(variant: "NanoWM-S/2", numFrames: 4, useAction: true,
                                                        actionDim: 10, causal: true))
        let model = try NanoWMModel(fixture.config)
        let generator = try Generator(seed: 20261125)
        var weights: [String: Tensor] = [:]
        for (key, shape) in try Self.referenceKeys(fixture) {
            weights[key] = try Tensor.randn(shape, generator: generator) * 0.02
        }
        try model.loadStateDict(weights, strict: true)
        let out = try Self.forward(model, fixture)
        print("s2_full (NanoWM-S/2)  \(try fixture.file.assertAgrees(out, "out"))")
    }

    static func referenceKeys(_ fixture: Fixture) throws -> [(String, [Int])] {
        let json = try XCTUnwrap(fixture.metadata["keys"], "s2_full: no keys metadata")
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[Any]])
        return try rows.map { row in
            (try XCTUnwrap(row[0] as? String), try XCTUnwrap(row[1] as? [Int]))
        }
    }

    // MARK: State dict

    /// Keys, shapes and order of `state_dict()` for NanoWM-S/2 equal the reference's;
    /// every small fixture (all injection kinds) has exactly our keys and shapes.
    func testStateDictKeysShapesAndOrderMatchReference() throws {
        let s2 = try Self.loadFixture("s2_full")
        let ours = try NanoWMModel(s2.config).stateDict().map { ($0.0, $0.1.shape) }
        let theirs = try Self.referenceKeys(s2)
        XCTAssertEqual(ours.map { $0.0 }, theirs.map { $0.0 }, "state-dict key order")
        XCTAssertEqual(ours.map { "\($0.0) \($0.1)" }, theirs.map { "\($0.0) \($0.1)" }, "state-dict shapes")
        XCTAssertFalse(ours.contains { $0.0.contains("rope") }, "RoPE tables are not persistent")

        for name in try Self.smallFixtureNames() {
            let fixture = try Self.loadFixture(name)
            let ours = Dictionary(uniqueKeysWithValues: try NanoWMModel(fixture.config).stateDict().map { ($0.0, $0.1.shape) })
            XCTAssertEqual(ours, fixture.weights.mapValues { $0.shape }, name)
        }
    }

    func testConfigInferenceRoundTripsFromStateDicts() throws {
        for name in try Self.smallFixtureNames() {
            let fixture = try Self.loadFixture(name)
            let expected = fixture.config
            // causal and additive-vs-adaln_fuse leave no trace in the weights.
            let inferred = try NanoWMConfig(inferringFrom: fixture.weights, causal: expected.causal,
                                            weightlessInjection: expected.actionInjection == .adalnFuse ? .adalnFuse : .additive)
            var comparable = expected
            if !expected.useAction, [.additive, .adalnFuse].contains(expected.actionInjection) {
                comparable.actionInjection = inferred.actionInjection
            }
            XCTAssertEqual(inferred, comparable, name)
        }
        // Full size, from shapes alone.
        let s2 = try Self.loadFixture("s2_full")
        let shapes = Dictionary(uniqueKeysWithValues: try Self.referenceKeys(s2))
        XCTAssertEqual(try NanoWMConfig(inferringFrom: shapes, causal: true), s2.config)
        // And from our own models, for every variant shape and injection kind (small inputs).
        for injection in ActionInjection.allCases {
            let config = NanoWMConfig(inputSize: 8, patchSize: 4, inChannels: 3, hiddenSize: 48, depth: 4, numHeads: 3,
                                      mlpRatio: 2.5, numFrames: 5, useAction: true, actionDim: 2,
                                      actionInjection: injection, causal: true)
            let model = try NanoWMModel(config)
            let loaded = try NanoWMModel(stateDict: Dictionary(uniqueKeysWithValues: model.stateDict()), causal: true,
                                    weightlessInjection: injection == .adalnFuse ? .adalnFuse : .additive)
            XCTAssertEqual(loaded.config, config, injection.rawValue)
        }
    }

    // MARK: Sizes

    func testVariantTableMatchesReference() throws {
        XCTAssertEqual(NanoWMConfig.variantNames.count, 15)
        XCTAssertFalse(NanoWMConfig.variantNames.contains("NanoWM-XL/1"))
        let b2 = try NanoWMConfig(variant: "NanoWM-B/2")
        XCTAssertEqual([b2.hiddenSize, b2.numHeads, b2.depth, b2.patchSize], [768, 12, 12, 2])
        for name in NanoWMConfig.variantNames {
            XCTAssertEqual(try NanoWMConfig(variant: name).variantName, name)
        }
        XCTAssertThrowsError(try NanoWMConfig(variant: "NanoWM-M/2"))
    }

    /// Counts against the reference's (Tests/Fixtures/nanowm/param_counts.json). Models are
    /// built at depth 2 with their real width, plus one block's count per further block (all
    /// blocks are alike), to keep the test fast and small; one whole S/2 checks the shortcut.
    func testParameterCountsMatchReference() throws {
        let url = Self.fixtureDirectory.appendingPathComponent("param_counts.json")
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
        XCTAssertFalse(rows.isEmpty)
        var checkedWhole = false
        for row in rows {
            var arguments = try XCTUnwrap(row["kwargs"] as? [String: Any])
            arguments["arch"] = row["arch"]
            let config = try NanoWMConfig(referenceArguments: arguments)
            let expected = try XCTUnwrap(row["params"] as? Int)
            let what = "\(row["arch"]!) \(config.actionInjection.rawValue) A=\(config.actionDim ?? 0)"
            XCTAssertEqual(try Self.parameterCount(config), expected, what)
            if !checkedWhole && config.variantName == "NanoWM-S/2" {
                XCTAssertEqual(try NanoWMModel(config).parameterCount, expected, what + " (whole model)")
                checkedWhole = true
            }
        }
        XCTAssertTrue(checkedWhole, "param_counts.json should list NanoWM-S/2")
    }

    static func parameterCount(_ config: NanoWMConfig) throws -> Int {
        var shallow = config
        shallow.depth = 2
        let model = try NanoWMModel(shallow)
        return model.parameterCount + (config.depth - 2) * model.blocks[0].parameterCount
    }

    // MARK: Behaviour

    /// The reference raises for adaln/film with per-clip t (see failures.json); we refuse
    /// those inputs with a message instead of inventing semantics.
    func testRejectsInputsTheReferenceCannotRun() throws {
        for injection in [ActionInjection.adaln, .film] {
            let model = try NanoWMModel(NanoWMConfig(inputSize: 4, patchSize: 2, hiddenSize: 16, depth: 2, numHeads: 2,
                                                numFrames: 3, useAction: true, actionDim: 2, actionInjection: injection))
            let x = try Tensor.randn([1, 3, 4, 4, 4]), action = try Tensor.randn([1, 3, 2])
            XCTAssertThrowsError(try model(x, t: Tensor([5], shape: [1]), action: action), injection.rawValue)
            XCTAssertNoThrow(try model(x, t: Tensor([5, 5, 5], shape: [1, 3]), action: action))
        }
        let model = try NanoWMModel(NanoWMConfig(inputSize: 4, patchSize: 2, hiddenSize: 16, depth: 2, numHeads: 2, numFrames: 3))
        XCTAssertThrowsError(try model(Tensor.randn([1, 2, 4, 4, 4]), t: Tensor([5], shape: [1])), "wrong frame count")
    }

    /// Seeded construction equals the reference's `torch.manual_seed(1234)` + constructor
    /// (fixtures `nanowm/seeded_init_<injection>`, made by the reference's own code). The init
    /// draws uniform (xavier) and normal (std 0.02) values; uniform draws are the same on every
    /// CPU, normal draws come from Box–Muller in float32, whose vectorised and scalar kernels
    /// differ by a few float32 roundings of log, sqrt and cos: at most 4 ulps of the value plus
    /// cos's absolute error near its zeros (ulp(2π) times the radius ≤ max|v|). So each tensor
    /// must agree within 16·ε₃₂·max|v|; a wrong draw order, std or bound misses by O(|v|).
    func testSeededInitMatchesReference() throws {
        for injection in ActionInjection.allCases {
            let fixture = try FixtureFile("nanowm/seeded_init_" + injection.rawValue)
            let arguments = try XCTUnwrap(try fixture.json("config") as? [String: Any])
            let config = try NanoWMConfig(referenceArguments: arguments)
            XCTAssertEqual(config.actionInjection, injection)
            try manualSeed(UInt64(try XCTUnwrap(fixture.metadata["seed"]))!)
            let ours = try NanoWMModel(config).stateDict()
            let reference = fixture.weights
            XCTAssertEqual(Set(ours.map { $0.0 }), Set(reference.keys), injection.rawValue)
            for (key, value) in ours {
                let expected = try XCTUnwrap(reference[key], key)
                XCTAssertEqual(value.shape, expected.shape, "\(injection.rawValue) \(key)")
                let scale = try expected.abs().max().item(Double.self)
                let distance = try maxAbsDifference(value, expected)
                XCTAssertLessThanOrEqual(distance, 16 * Double(Float.ulpOfOne) * scale, "\(injection.rawValue) \(key)")
            }
        }
    }

    /// Training needs gradients to reach every parameter. Zero-initialised layers would block
    /// most of them, so the weights are randomised first.
    func testBackwardReachesEveryParameter() throws {
        let config = NanoWMConfig(inputSize: 4, patchSize: 2, hiddenSize: 16, depth: 2, numHeads: 2, numFrames: 3,
                                  useAction: true, actionDim: 2, actionInjection: .crossAttention, causal: true)
        let model = try NanoWMModel(config)
        try withNoGrad { for p in model.parameters() { try p.copy_(Tensor.randn(p.shape) * 0.2) } }
        model.train()
        let out = try model(Tensor.randn([2, 3, 4, 4, 4]), t: Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]),
                            action: Tensor.randn([2, 3, 2]))
        try out.square().mean().backward()
        for (name, p) in model.namedParameters() {
            let grad = try XCTUnwrap(p.grad, "\(name) has no gradient")
            XCTAssertGreaterThan(try grad.abs().sum().item(Double.self), 0, name)
        }
    }
}
