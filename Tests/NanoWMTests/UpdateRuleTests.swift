import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM

/// The optimizer step the trainer runs (`optimizerStep` under `UpdateRule`) against fixtures
/// made by the reference's own `configure_optimizers` and `training_step` clipping statement
/// inside a real PyTorch Lightning loop (Tests/Fixtures/make_training_fixtures.py): a small MLP
/// on random data, AdamW, one and three micro-batches per step, clipping switched on from the
/// first or second step with a norm small enough that every clip would bite.
final class UpdateRuleTests: XCTestCase {
    private static let keys = ["0.weight", "0.bias", "2.weight", "2.bias"]

    private struct Run {
        var rates: [Double] = []
        var norms: [Double] = []
        var parameters: [[Tensor]] = []
    }

    private func settings(_ fixture: FixtureFile) throws -> TrainingSettings {
        func number(_ key: String) throws -> Double { try XCTUnwrap(Double(try XCTUnwrap(fixture.metadata[key], key)), key) }
        var settings = TrainingSettings()
        settings.learningRate = try number("lr")
        settings.weightDecay = try number("weight_decay")
        settings.warmupSteps = Int(try number("lr_warmup_steps"))
        settings.gradientAccumulation = Int(try number("accumulate_grad_batches"))
        settings.gradientClipNorm = try number("gradient_clip_norm")
        settings.gradientClipStartStep = Int(try number("gradient_clip_start_step"))
        return settings
    }

    private func train(_ fixture: FixtureFile, _ settings: TrainingSettings, steps: Int) throws -> Run {
        let weights = fixture.weights
        let parameters = try Self.keys.map { try XCTUnwrap(weights[$0], $0).clone().requiresGrad_() }
        let optimizer = try AdamW(parameters, learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        let (x, y) = (try fixture.tensor("x"), try fixture.tensor("y"))
        let k = settings.gradientAccumulation
        var run = Run()
        for step in 0..<steps {
            let result = try optimizerStep(optimizer, rule: UpdateRule(settings: settings), step: step, microBatches: k, loss: { micro in
                let hidden = try x[step * k + micro].linear(parameters[0], parameters[1]).tanh()
                return try (hidden.linear(parameters[2], parameters[3]) - y[step * k + micro]).square().mean()
            })
            run.rates.append(result.learningRate)
            run.norms.append(result.gradientNorm)
            run.parameters.append(try parameters.map { try $0.detach().clone() })
        }
        return run
    }

    func testStepsAsLightningRunsTheReference() throws {
        for name in ["single_microbatch", "accumulation"] {
            let fixture = try FixtureFile("training/update_rule_" + name)
            let settings = try settings(fixture)
            let steps = Int(try XCTUnwrap(fixture.metadata["steps"]))!
            let run = try train(fixture, settings, steps: steps)
            // The reference's constant schedule: lr_warmup_steps (3) changes nothing.
            XCTAssertEqual(run.rates, try XCTUnwrap(try fixture.json("learning_rates") as? [Double]), name)
            // The logged norm is the last micro-batch's measurement of each step.
            let k = settings.gradientAccumulation
            let logged = try fixture.tensor("norms").to(.float64), logged64 = try fixture.tensor("norms.f64")
            for step in 0..<steps {
                let i = (step + 1) * k - 1
                let expected = try logged64[i].item(Double.self), reference = try logged[i].item(Double.self)
                let allowed = ReferenceAgreement.factor * (abs(reference - expected) + Double(Float.ulpOfOne) * abs(expected))
                XCTAssertLessThanOrEqual(abs(run.norms[step] - expected), allowed, "\(name) norm at step \(step)")
            }
            for step in 0..<steps {
                for (key, value) in zip(Self.keys, run.parameters[step]) {
                    try fixture.assertAgrees(value, "step\(step).\(key)", name)
                }
            }
        }
    }

    /// Controls: what the keys promise gives other numbers than the reference's run, so the test
    /// above can tell them apart.
    func testWarmupAndAppliedClippingDepartFromTheReference() throws {
        let fixture = try FixtureFile("training/update_rule_accumulation")
        var settings = try settings(fixture)
        settings.applyWarmup = true
        let warm = try train(fixture, settings, steps: 2)
        XCTAssertEqual(warm.rates, [0, settings.learningRate / 3])
        settings.applyWarmup = false
        settings.applyGradientClipping = true
        let clipped = try train(fixture, settings, steps: 2)
        XCTAssertFalse(try fixture.agreement(clipped.parameters[1][0], "step1.0.weight").holds)
    }
}
