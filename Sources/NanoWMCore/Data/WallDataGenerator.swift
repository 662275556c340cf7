import Foundation
import SwiftTorch
import NanoWMFormats

/// Collects trajectories of the built-in wall environment with the exploratory policy and
/// stores them in the project's dataset format. The same seed gives the same files.
public enum WallDataGenerator {
    public static func generate(into directory: URL, episodes: Int, length: Int, resolution: Int, seed: UInt64,
                                progress: ((Int, Int) -> Void)? = nil) throws -> TrajectoryStore {
        guard episodes > 0, length > 1, resolution >= 8 else {
            throw DataError("need episodes > 0, length > 1 and resolution ≥ 8 (got \(episodes), \(length), \(resolution))")
        }
        let manifest = TrajectoryStore.Manifest(name: "builtin/wall", episodes: episodes, episodeLength: length,
                                                resolution: resolution, actionDimension: WallEnvironment.actionDimension, seed: seed)
        if let existing = try? TrajectoryStore(directory: directory), existing.manifest == manifest { return existing }
        return try TrajectoryStore.write(manifest, to: directory, episode: { index in
            try episode(index, length: length, resolution: resolution, seed: seed)
        }, progress: progress)
    }

    /// One episode: `length` frames and the action taken at each.
    public static func episode(_ index: Int, length: Int, resolution: Int, seed: UInt64) throws -> (frames: Tensor, actions: Tensor) {
        let walk = self.walk(index, length: length, seed: seed)
        var pixels: [UInt8] = []
        for position in walk.positions {
            pixels += WallEnvironment(layout: walk.layout, resolution: resolution, start: position).pixelBytes()
        }
        return (try Tensor(pixels, shape: [length, resolution, resolution, 3]),
                try Tensor(walk.actions.flatMap { [Float($0.0), Float($0.1)] }, shape: [length, WallEnvironment.actionDimension]))
    }

    /// The agent's position before each of an episode's `length` steps and the action taken
    /// there: what `episode` renders, without rendering (dataset goals replay from these).
    public static func walk(_ index: Int, length: Int, seed: UInt64)
        -> (layout: WallEnvironment.Layout, positions: [(x: Double, y: Double)], actions: [(Double, Double)]) {
        let episodeSeed = seed &* 1_000_003 &+ UInt64(index)
        var random = SeededRandom(seed: episodeSeed)
        let layout = WallEnvironment.Layout()
        var environment = WallEnvironment(layout: layout, resolution: 8, start: WallEnvironment.randomStart(layout, using: &random))
        var policy = WanderPolicy(seed: episodeSeed ^ 0xA5A5)
        var positions: [(x: Double, y: Double)] = [], actions: [(Double, Double)] = []
        for _ in 0..<length {
            positions.append(environment.position)
            let action = policy.action(at: environment.position, layout: layout)
            actions.append(action)
            environment.step(action)
        }
        return (layout, positions, actions)
    }
}
