import Foundation
import SwiftTorch

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
        let episodeSeed = seed &* 1_000_003 &+ UInt64(index)
        var random = SeededRandom(seed: episodeSeed)
        let layout = WallEnvironment.Layout()
        var environment = WallEnvironment(layout: layout, resolution: resolution, start: WallEnvironment.randomStart(layout, using: &random))
        var policy = WanderPolicy(seed: episodeSeed ^ 0xA5A5)
        var pixels: [UInt8] = []
        var actions: [Float] = []
        for _ in 0..<length {
            pixels += environment.render()
            let action = policy.action(at: environment.position, layout: layout)
            actions += [Float(action.0), Float(action.1)]
            environment.step(action)
        }
        return (try Tensor(pixels, shape: [length, resolution, resolution, 3]),
                try Tensor(actions, shape: [length, WallEnvironment.actionDimension]))
    }
}
