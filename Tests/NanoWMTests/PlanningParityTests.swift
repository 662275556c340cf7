import Foundation
import NanoWM
import TestSupport
import SwiftTorch
import XCTest
import NanoWMCore

/// The planner against upstream's own planning code (Tests/Fixtures/make_planning_fixtures.py):
/// the objectives, the chunked world-model rollout and whole CEM runs, on the tiny model with
/// the identity codec, with the same seeds and therefore the same draws. Judged by the float64
/// replay rule (Tests/Fixtures/README.md, "Tolerances").
final class PlanningParityTests: XCTestCase {
    func testObjectivesEqualReference() throws {
        let fixture = try FixtureFile("planning/objectives")
        let predicted = try fixture.tensor("pred"), goal = try fixture.tensor("goal")
        for mode in [PlanningObjective.Mode.last, .all] {
            for metric in [PlanningObjective.Metric.mse, .cosine] {
                let objective = try PlanningObjective(mode: mode, metric: metric, tokenDimension: metric == .cosine ? 4 : nil)
                let result = try fixture.assertAgrees(try objective(predicted, goal: goal), "\(mode.rawValue).\(metric.rawValue)")
                print("objective \(mode.rawValue)/\(metric.rawValue): \(result)")
            }
        }
    }

    /// Two chunks of the 3-frame window for a 5-step horizon: actions 0–2, then 2–4 padded with
    /// a zero row; the last kept frame is the next context.
    func testWorldModelRolloutEqualsReference() throws {
        let fixture = try FixtureFile("planning/rollout")
        let model = try DiffusionParityTests.tinyModel(fixture)
        let actions = try fixture.tensor("actions")
        let start = try fixture.tensor("start").expand([actions.shape[0], 1, 4, 4, 4])
        // The fixture's model is causal: sequential windows run cached and, as the reference, uncached.
        for (index, mode) in [SchedulingMode.fullSequence, .sequential].enumerated() {
            for cached in mode == .sequential ? [true, false] : [true] {
                let world = try Self.worldModel(model, mode: mode, cached: cached)
                try manualSeed(UInt64(1201 + index))
                let latents = try withNoGrad { try world.rollout(start: start, actions: actions) }
                let result = try fixture.assertAgrees(latents, "\(mode.rawValue).latents")
                print("rollout \(mode.rawValue)\(cached ? "" : " uncached"): \(result)")
            }
        }
    }

    /// Whole CEM runs: every sample's loss in every iteration, the best loss per iteration and
    /// the returned mean, with batched rollouts (5 + 3 samples), action bounds and a warm start.
    func testCEMEqualsReference() throws {
        let fixture = try FixtureFile("planning/cem")
        let model = try DiffusionParityTests.tinyModel(fixture)
        let world = try Self.worldModel(model, mode: .fullSequence)
        let start = try fixture.tensor("start"), goal = try world.encode(try fixture.tensor("goal")).flatten(start: 2)
        let cem = try fixture.json("cem") as! [String: Any]
        for case let run as [String: Any] in try fixture.json("cases") as! [Any] {
            let key = run["key"] as! String
            var settings = CEMPlanner.Settings()
            settings.numSamples = cem["num_samples"] as! Int
            settings.topK = cem["topk"] as! Int
            settings.iterations = cem["opt_steps"] as! Int
            settings.rolloutBatchSize = cem["rollout_batch_size"] as? Int
            settings.actionLow = run["action_low"] as? Double
            settings.actionHigh = run["action_high"] as? Double
            let objective = try PlanningObjective(mode: PlanningObjective.Mode(rawValue: run["objective_mode"] as! String)!)
            var iterationLosses: [Tensor] = []
            let planner = try CEMPlanner(settings: settings, horizon: cem["horizon"] as! Int, actionDimension: cem["action_dim"] as! Int) { samples in
                let latents = try world.rollout(start: try start.expand([samples.shape[0], 1, 4, 4, 4]), actions: samples)
                let loss = try objective(latents, goal: goal)
                iterationLosses.append(loss)
                return loss
            }
            let warm = (run["warm_start_rows"] as! Int) > 0 ? try fixture.tensor(key + ".warm_start").select(dim: 0, index: 0) : nil
            try manualSeed(UInt64(run["seed"] as! Int))
            let plan = try withNoGrad { try planner.plan(warmStart: warm) }
            let perIteration = try Tensor.cat(iterationLosses, dim: 0).reshape([settings.iterations, settings.numSamples])
            print("CEM \(key) losses: \(try fixture.assertAgrees(perIteration, key + ".iteration_losses"))")
            print("CEM \(key) best: \(try fixture.assertAgrees(try Tensor(plan.losses.map(Float.init), shape: [settings.iterations]), key + ".best_loss"))")
            print("CEM \(key) mean: \(try fixture.assertAgrees(plan.actions, key + ".mu"))")
        }
    }

    /// `cached`: sequential windows of a causal model on its cached context (equal to the
    /// reference up to float32 rounding) or, off, the reference's whole-window steps.
    static func worldModel(_ model: NanoWMModel, mode: SchedulingMode, cached: Bool = true) throws -> PlanningWorldModel {
        var setup = SamplingSetup()
        setup.respaced = false // upstream's planning builds the 1000-step process
        setup.options.mode = mode
        setup.options.steps = 4
        setup.options.historyStabilization = 0.02
        setup.options.cachedCausal = cached
        let (process, options) = try setup.make(device: .cpu)
        return try PlanningWorldModel(model: model, codec: PixelCodec(), process: process, options: options)
    }
}
