import Foundation
import PythonCompatible
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// `planning_results.json` and `planning_targets.json` in upstream's schema: success rate and
/// count, the resolved planning block, every episode's metrics, and for each distance and the
/// step count its mean, median, population std, std/√n, min and max over finite values.
/// Non-finite numbers are written as null.
public struct PlanningResults {
    public let episodes: [EpisodeMetrics]
    public let configuration: Any

    public init(episodes: [EpisodeMetrics], configuration: Any) {
        (self.episodes, self.configuration) = (episodes, configuration)
    }

    public var successCount: Int { episodes.filter(\.success).count }
    public var successRate: Double { episodes.isEmpty ? 0 : Double(successCount) / Double(episodes.count) }

    public var json: [String: Any] {
        var result: [String: Any] = ["success_rate": successRate, "success_count": successCount, "n_episodes": episodes.count,
                                     "planning_config": configuration, "per_episode": episodes.map(\.json)]
        let columns: [(String, (EpisodeMetrics) -> Double)] = [
            ("state_dist", \.stateDistance), ("xy_dist", \.xyDistance), ("pos4_dist", \.pos4Distance),
            ("angle_dist", \.angleDistance), ("n_steps", { Double($0.steps) }),
        ]
        for (name, value) in columns {
            for (key, number) in Self.summary(name, episodes.map(value)) { result[key] = number }
        }
        return result
    }

    /// `<name>_mean/_median/_std/_stderr/_min/_max` over the finite values (null when none).
    static func summary(_ name: String, _ values: [Double]) -> [String: Any] {
        let kept = values.filter(\.isFinite).sorted()
        let suffixes = ["mean", "median", "std", "stderr", "min", "max"]
        guard !kept.isEmpty else { return Dictionary(uniqueKeysWithValues: suffixes.map { ("\(name)_\($0)", NSNull() as Any) }) }
        let n = Double(kept.count)
        let mean = kept.reduce(0, +) / n
        let std = (kept.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        let middle = kept.count / 2
        let median = kept.count % 2 == 1 ? kept[middle] : (kept[middle - 1] + kept[middle]) / 2
        return ["\(name)_mean": mean, "\(name)_median": median, "\(name)_std": std, "\(name)_stderr": std / n.squareRoot(),
                "\(name)_min": kept.first!, "\(name)_max": kept.last!]
    }

    static func finite(_ value: Double) -> Any { value.isFinite ? value : NSNull() }

    /// `planning_targets.json`: per episode its start, goal, layout and `goal_meta`.
    public static func targets(_ goals: [PlanningGoal]) -> [[String: Any]] {
        goals.enumerated().map { index, goal in
            ["episode": index, "init_state": goal.initialState.map(finite), "goal_state": goal.goalState.map(finite),
             "env_info": goal.layout.map { $0 as Any } ?? NSNull(), "goal_meta": goal.meta]
        }
    }

    /// Writes JSON atomically (sorted keys, indented as Python's `json.dump(…, indent=2)`).
    public static func write(_ object: Any, to url: URL) throws {
        let text = PythonJSON.dumps(JSONValue(sortingKeysOf: object), indent: 2) + "\n"
        try AtomicFile.write(to: url.path) { Data(text.utf8) }
    }
}
