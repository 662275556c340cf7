import Foundation
import SwiftTorch
import NanoWMFormats
import NanoWMCore

/// A planning run's episodes and outputs (upstream's `PlanningExperiment.planning` after
/// loading): `planning_targets.json` first, then every episode with a progress bar, the first
/// `n_plot_samples` as `episode_NNN.mp4` (executed frames beside the goal), and
/// `planning_results.json`, with a summary line.
public struct PlanningExperiment {
    public var control: ModelPredictiveControl
    public var environment: any PlanningEnvironment
    public var goals: [PlanningGoal]
    /// `planning.output_dir`.
    public var output: URL
    public var log: (String) -> Void = { print($0) }
    /// Called after each episode with its metrics.
    public var episodeDone: (EpisodeMetrics) -> Void = { _ in }

    public init(control: ModelPredictiveControl, environment: any PlanningEnvironment, goals: [PlanningGoal], output: URL) {
        (self.control, self.environment, self.goals, self.output) = (control, environment, goals, output)
    }

    public struct Outcome {
        public var results: PlanningResults
        public var resultsFile: URL
        public var targetsFile: URL
        public var videos: [URL]
        public var seconds: Double
    }

    public func run() throws -> Outcome {
        let started = Date()
        try Folder.create(output)
        let targets = output.appendingPathComponent("planning_targets.json")
        try PlanningResults.write(PlanningResults.targets(goals), to: targets)
        var environment = self.environment
        var episodes: [EpisodeMetrics] = [], videos: [URL] = []
        for (index, goal) in goals.enumerated() {
            let (metrics, frames, goalFrame) = try control.episode(index, goal: goal, environment: &environment,
                                                                   label: "episode \(index + 1)/\(goals.count)")
            episodes.append(metrics)
            episodeDone(metrics)
            if index < control.settings.videos {
                let url = output.appendingPathComponent(String(format: "episode_%03d.mp4", index))
                try Self.writeVideo(frames, goal: goalFrame, to: url)
                videos.append(url)
            }
        }
        let results = PlanningResults(episodes: episodes, configuration: control.settings.block.anyValue)
        let resultsFile = output.appendingPathComponent("planning_results.json")
        try PlanningResults.write(results.json, to: resultsFile)
        let seconds = Date().timeIntervalSince(started)
        let distances = episodes.map(\.stateDistance).filter(\.isFinite)
        log(String(format: "planning: %d/%d episodes reached the goal (%.0f%%), mean state distance %.4g, %.1f s per episode",
                   results.successCount, episodes.count, 100 * results.successRate,
                   distances.isEmpty ? Double.nan : distances.reduce(0, +) / Double(distances.count), seconds / Double(max(episodes.count, 1))))
        return Outcome(results: results, resultsFile: resultsFile, targetsFile: targets, videos: videos, seconds: seconds)
    }

    /// Every executed frame beside the goal frame, enlarged (nearest) to at least 256 pixels
    /// high as upstream's videos are, at 10 frames per second.
    static func writeVideo(_ frames: [RGBImage], goal: RGBImage, to url: URL) throws {
        let factor = Swift.max(1, (256 + goal.height - 1) / goal.height)
        let goalLarge = try goal.scaled(by: factor)
        let pairs = try frames.map { try RGBImage.grid([try $0.scaled(by: factor), goalLarge], columns: 2, padding: 0) }
        try MP4Writer.write(pairs, fps: 10, to: url)
    }
}
