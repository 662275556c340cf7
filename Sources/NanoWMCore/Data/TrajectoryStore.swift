import Foundation
import PythonCompatible
import SwiftTorch
import NanoWMFormats

/// The project's on-disk dataset format: a folder with `dataset.json` (what generated it)
/// and one `episode_NNNNN.safetensors` per trajectory holding `frames` (uint8
/// `[T, H, W, 3]`) and `actions` (float32 `[T, A]`).
public struct TrajectoryStore {
    public struct Manifest: Codable, Equatable {
        public var name: String
        public var episodes: Int
        public var episodeLength: Int
        public var resolution: Int
        public var actionDimension: Int
        public var seed: UInt64
        // Bumped whenever the environment or format changes, so old data is regenerated.
        public var formatVersion = 2
    }

    public let directory: URL
    public let manifest: Manifest

    public static let manifestName = "dataset.json"

    public init(directory: URL) throws {
        let url = directory.appendingPathComponent(Self.manifestName)
        guard let data = try? Data(contentsOf: url) else {
            throw DataError("\(url.path): no dataset here; a training run on the built-in dataset generates one on first use (nanowm train experiment=quickstart dataset.data_dir=\(directory.path))")
        }
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw DataError("\(url.path): not a valid dataset manifest (\(error))")
        }
        self.directory = directory
    }

    public func episodeURL(_ index: Int) -> URL {
        directory.appendingPathComponent(String(format: "episode_%05d.safetensors", index))
    }

    /// Frames `[T, H, W, 3]` uint8 and actions `[T, A]` float32 of one episode.
    public func episode(_ index: Int) throws -> (frames: Tensor, actions: Tensor) {
        let path = episodeURL(index).path
        let tensors = try SafeTensors.read(path).tensors
        guard let frames = tensors["frames"], let actions = tensors["actions"] else {
            throw DataError("\(path): expected tensors 'frames' and 'actions'")
        }
        return (frames, actions)
    }

    /// Writes episodes and then the manifest, so a half-generated folder has no manifest.
    public static func write(_ manifest: Manifest, to directory: URL,
                             episode: (Int) throws -> (frames: Tensor, actions: Tensor),
                             progress: ((Int, Int) -> Void)? = nil) throws -> TrajectoryStore {
        try Folder.create(directory)
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(manifestName))
        for index in 0..<manifest.episodes {
            let (frames, actions) = try episode(index)
            let path = directory.appendingPathComponent(String(format: "episode_%05d.safetensors", index)).path
            try SafeTensors.write(["frames": frames, "actions": actions], to: path)
            progress?(index + 1, manifest.episodes)
        }
        let text = try PythonJSON.dumps(encoding: manifest) + "\n"
        try AtomicFile.write(to: directory.appendingPathComponent(manifestName).path) { Data(text.utf8) }
        return try TrajectoryStore(directory: directory)
    }
}
