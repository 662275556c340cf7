import Foundation
import SwiftTorch
import NanoWMFormats
import NanoWMCore

/// Upstream's MPC loop (`PlanningExperiment._run_mpc`) for one environment: per episode, plan
/// `horizon` actions with CEM from the current frame to the goal frame, execute the first
/// `replan_every` of them (de-normalised, split into `frame_interval` environment steps), check
/// success at every chunk boundary, and plan again from the frame reached, warm-started with the
/// rest of the previous plan. Unlike upstream, every episode seeds the generator with its own
/// seed, so the same seed gives the same plans.
public struct ModelPredictiveControl {
    public let world: PlanningWorldModel
    public let settings: PlanningSettings
    /// Environment steps per model action.
    public let frameInterval: Int
    /// nil: the model's actions are the environment's (the dataset was not normalised).
    public let statistics: ActionStatistics?
    /// Side of the square frames the model's codec takes.
    public let imageSize: Int
    public let device: Device
    /// Per-episode progress (a bar on standard error by default; nil = silent).
    public var showProgress = true
    /// What predicts the outcome of an action sequence: the world model, or the environment
    /// itself (CEM with a perfect model: an upper bound for what the world model can reach).
    public enum Predictor: Sendable { case worldModel, simulator }
    public var predictor = Predictor.worldModel

    public init(world: PlanningWorldModel, settings: PlanningSettings, frameInterval: Int, statistics: ActionStatistics?,
                imageSize: Int, device: Device) {
        (self.world, self.settings, self.frameInterval, self.statistics, self.imageSize, self.device) =
            (world, settings, frameInterval, statistics, imageSize, device)
    }

    /// The model's action width: `frame_interval` environment actions.
    public func modelActionDimension(_ environment: any PlanningEnvironment) -> Int { environment.actionDimension * frameInterval }

    /// One episode; returns its metrics and every executed frame (the start first) and the goal frame.
    public func episode(_ index: Int, goal: PlanningGoal, environment: inout any PlanningEnvironment,
                                                label: String) throws -> (metrics: EpisodeMetrics, frames: [RGBImage], goalFrame: RGBImage) {
        let seed = settings.seed + index
        try manualSeed(UInt64(seed))
        if let layout = goal.layout { try environment.applyLayout(layout) }
        var goalFrame = goal.goalFrame
        if goalFrame == nil {
            try environment.reset(to: goal.goalState, seed: UInt64(seed + 10_000))
            goalFrame = try environment.render()
        }
        try environment.reset(to: goal.initialState, seed: UInt64(seed))
        let startFrame = try goal.initialFrame ?? environment.render()
        let goalLatent = try world.encode(try frameTensor(goalFrame!)).flatten(start: 2)
        var frames = [startFrame], observation = startFrame
        var current = environment.state
        var plan: CEMPlanner.Plan?
        var successStep: Int?
        let bar = showProgress ? ProgressBar(label, total: settings.maxEpisodeSteps) : nil
        steps: for step in 0..<settings.maxEpisodeSteps {
            if step % settings.replanEvery == 0 {
                let warm = try plan.flatMap { previous -> Tensor? in
                    previous.actions.shape[0] > settings.replanEvery
                        ? try previous.actions.narrow(dim: 0, start: settings.replanEvery, length: previous.actions.shape[0] - settings.replanEvery) : nil
                }
                plan = try planActions(from: observation, in: environment, goal: goalLatent, warmStart: warm)
            }
            let row = try plan!.actions.select(dim: 0, index: step % settings.replanEvery).to(.cpu).to(.float64).toArray(Double.self)
            let action = try statistics?.denormalize(row) ?? row
            var done = false
            for sub in 0..<frameInterval {
                let width = environment.actionDimension
                done = try environment.step(Array(action[(sub * width)..<((sub + 1) * width)]))
                frames.append(try environment.render())
                current = environment.state
                if done { break }
            }
            bar?.update(step + 1, status: String(format: "loss %.4g", plan!.finalLoss))
            if done { break }
            observation = frames.last!
            if (step + 1) % settings.replanEvery == 0 || step + 1 == settings.maxEpisodeSteps,
               environment.evaluate(goal: goal.goalState, current: current).success {
                successStep = step + 1
                break steps
            }
        }
        bar?.finish()
        let outcome = environment.evaluate(goal: goal.goalState, current: current)
        let metrics = EpisodeMetrics(episode: index, seed: seed, outcome: outcome, goal: goal.goalState, current: current,
                                     steps: frames.count - 1, successStep: successStep, meta: goal.meta)
        return (metrics, frames, goalFrame!)
    }

    /// CEM from `frame` (the environment's current observation) toward the goal latent `[1, 1, D]`.
    func planActions(from frame: RGBImage, in environment: any PlanningEnvironment, goal: Tensor,
                     warmStart: Tensor?) throws -> CEMPlanner.Plan {
        let start = try world.encode(try frameTensor(frame))
        let world = self.world, objective = settings.objective, predictor = self.predictor
        let planner = try CEMPlanner(settings: settings.cem, horizon: settings.horizon,
                                     actionDimension: modelActionDimension(environment)) { samples in
            switch predictor {
            case .worldModel:
                let starts = try start.expand([samples.shape[0]] + Array(start.shape[1...]))
                return try objective(try world.rollout(start: starts, actions: samples), goal: goal)
            case .simulator:
                return try objective(try simulatedLatents(samples, from: environment), goal: goal)
            }
        }
        return try withNoGrad { try planner.plan(warmStart: warmStart, device: device) }
    }

    /// What the environment itself shows after each action of every sample `[N, H, A]`, encoded
    /// like the world model's rollouts: `[N, 1 + H, D]`, the current frame first.
    func simulatedLatents(_ samples: Tensor, from environment: any PlanningEnvironment) throws -> Tensor {
        let (count, horizon, width) = (samples.shape[0], samples.shape[1], samples.shape[2])
        let values = try samples.to(.cpu).to(.float64).toArray(Double.self)
        let first = try environment.render()
        var pixels: [UInt8] = []
        pixels.reserveCapacity(count * (horizon + 1) * first.pixels.count)
        for n in 0..<count {
            var copy = environment
            pixels += first.pixels
            for h in 0..<horizon {
                let start = (n * horizon + h) * width
                let action = try statistics?.denormalize(Array(values[start..<(start + width)])) ?? Array(values[start..<(start + width)])
                let step = environment.actionDimension
                for sub in 0..<frameInterval { try copy.step(Array(action[(sub * step)..<((sub + 1) * step)])) }
                pixels += try copy.render().pixels
            }
        }
        let frames = try modelFrames(pixels, count: count * (horizon + 1), height: first.height, width: first.width)
        let latents = try world.encode(try frames.reshape([count, horizon + 1, 3, imageSize, imageSize]).to(device))
        return try latents.flatten(start: 2)
    }

    /// A frame as the model takes it: `[1, 1, 3, S, S]` in [−1, 1] on the device.
    func frameTensor(_ image: RGBImage) throws -> Tensor {
        try modelFrames(image.pixels, count: 1, height: image.height, width: image.width).unsqueeze(0).to(device)
    }

    /// `count` rendered RGB frames (row-major `[count][height][width][3]`) as `[count, 3, S, S]`
    /// in [−1, 1], resized bilinearly when the environment renders at another size.
    func modelFrames(_ pixels: [UInt8], count: Int, height: Int, width: Int) throws -> Tensor {
        let frames = try signedFrames(try Tensor(pixels, shape: [count, height, width, 3])).permute(0, 3, 1, 2)
        guard width != imageSize || height != imageSize else { return frames }
        return try frames.interpolate(size: [imageSize, imageSize], mode: .bilinear, alignCorners: false)
    }
}

/// What upstream records per episode.
public struct EpisodeMetrics {
    public var episode: Int
    public var seed: Int
    public var success: Bool
    public var stateDistance: Double
    public var xyDistance: Double
    public var pos4Distance: Double
    public var angleDistance: Double
    public var steps: Int
    public var successStep: Int?
    public var meta: [String: Any]

    /// Distances as upstream computes them from the states (NaN where the state is too short).
    init(episode: Int, seed: Int, outcome: PlanningOutcome, goal: [Double], current: [Double], steps: Int,
         successStep: Int?, meta: [String: Any]) {
        func norm(_ n: Int) -> Double {
            guard goal.count >= n, current.count >= n else { return .nan }
            return zip(goal.prefix(n), current.prefix(n)).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        }
        var angle = Double.nan
        if goal.count >= 5, current.count >= 5 {
            let difference = abs(goal[4] - current[4])
            angle = Swift.min(difference, 2 * Double.pi - difference)
        }
        (self.episode, self.seed, self.success, self.stateDistance) = (episode, seed, outcome.success, outcome.stateDistance)
        (xyDistance, pos4Distance, angleDistance) = (norm(2), norm(4), angle)
        (self.steps, self.successStep, self.meta) = (steps, successStep, meta)
    }

    /// The `per_episode` entry.
    public var json: [String: Any] {
        ["episode": episode, "seed": seed, "success": success ? 1.0 : 0.0, "state_dist": PlanningResults.finite(stateDistance),
         "xy_dist": PlanningResults.finite(xyDistance), "pos4_dist": PlanningResults.finite(pos4Distance),
         "angle_dist": PlanningResults.finite(angleDistance), "n_steps": steps,
         "success_step": successStep.map { $0 as Any } ?? NSNull(), "goal_meta": meta]
    }
}
