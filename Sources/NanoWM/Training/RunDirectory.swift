import Foundation
import SwiftTorch

/// A run's folder, laid out as upstream's: `checkpoints/latest/` (only the newest kept),
/// `checkpoints/across_timesteps/` (periodic, all kept), `tensorboard/`, the composed
/// `config.yaml`, metrics and media.
public struct RunDirectory {
    public enum CheckpointKind { case latest, acrossTimesteps }

    public let url: URL

    /// - Parameter create: make the folder now (a data-parallel rank other than 0 only names it).
    public init(_ url: URL, create: Bool = true) throws {
        self.url = url
        if create { try Folder.create(url) }
    }

    public var checkpoints: URL { url.appendingPathComponent("checkpoints") }
    public var tensorboard: URL { url.appendingPathComponent("tensorboard") }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Lightning's file names: `latest-epoch=E-step=S.ckpt` and `epoch=E-step=S.ckpt`.
    public func checkpointURL(_ kind: CheckpointKind, epoch: Int, step: Int) throws -> URL {
        let (folder, name) = kind == .latest
            ? ("latest", "latest-epoch=\(epoch)-step=\(step).ckpt")
            : ("across_timesteps", "epoch=\(epoch)-step=\(step).ckpt")
        let directory = checkpoints.appendingPathComponent(folder)
        try Folder.create(directory)
        return directory.appendingPathComponent(name)
    }

    /// Removes older `latest` checkpoints once a newer one is safely in place (save_top_k 1).
    func pruneLatest(keeping newest: URL) throws {
        let directory = checkpoints.appendingPathComponent("latest")
        guard newest.deletingLastPathComponent().standardizedFileURL == directory.standardizedFileURL else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
        where name.hasSuffix(".ckpt") && name != newest.lastPathComponent {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Removes the partial checkpoints a run killed while saving left behind (temporaries of
    /// processes that are gone) and returns their paths.
    public func removeStaleTemporaries() -> [String] {
        ["latest", "across_timesteps"].flatMap {
            AtomicFile.removeStaleTemporaries(in: checkpoints.appendingPathComponent($0).path)
        }
    }

    /// The newest checkpoint under `checkpoints/latest`, if any.
    public var latestCheckpoint: URL? {
        let directory = checkpoints.appendingPathComponent("latest")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".ckpt") && !$0.hasPrefix(".") }
            .max { Self.step(of: $0) < Self.step(of: $1) }
            .map { directory.appendingPathComponent($0) }
    }

    static func step(of name: String) -> Int {
        guard let range = name.range(of: "step=") else { return -1 }
        return Int(name[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }
}
