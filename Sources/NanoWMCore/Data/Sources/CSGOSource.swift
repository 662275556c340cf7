import Foundation
import NanoWMConfiguration
import SwiftTorch
import NanoWMFormats

/// CSGO deathmatch recordings (upstream's `CSGODataSource`, the Vid2World split): one HDF5
/// file per episode of exactly 1000 steps at `<root>/<lo>-<hi>/hdf5_dm_july2021_<n>.hdf5`, with
/// BGR uint8 frames `frame_<i>_x` and 51-dimensional float32 actions `frame_<i>_y`. No states.
public final class CSGOSource: TrajectorySource {
    public static let episodeLength = 1000
    public static let actionSize = 51

    /// Which of the two file lists (`train_file_list`, `val_file_list`) a source reads.
    public enum Split: String { case train, val }

    public let root: URL
    /// Episodes in upstream's order (sorted by file number): `episode_id` (`"<folder>/<file>"`) and path.
    public let files: [(id: String, url: URL)]
    private let lock = NSLock()
    private var actionCache: [Int: Tensor] = [:]

    public var location: String { root.path }
    public var trajectoryCount: Int { files.count }
    public var actionDimension: Int { Self.actionSize }
    public var stateDimension: Int { 0 }
    public var statisticsIdentity: (id: String, root: URL?) {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder) && isFolder.boolValue
        return ("data_path=\(root.path)", exists ? root : nil)
    }

    /// - Parameters:
    ///   - fileList: a text file of HDF5 file names, one a line; without it every `*.hdf5`
    ///     under `root` is read.
    ///   - rollouts: upstream's `n_rollout`: only the first N episodes.
    public init(root: URL, fileList: URL? = nil, rollouts: Int? = nil) throws {
        self.root = root
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw DataError("\(root.path): no CSGO dataset folder here; set csgo_data_dir (or dataset.loader.data_path) to the folder holding 1-200/, 201-400/, …")
        }
        let urls = try fileList.map { try Self.listed(in: $0, root: root) } ?? Self.scanned(root)
        var sorted = urls.sorted { Self.number($0) < Self.number($1) }
        if let rollouts { sorted = Array(sorted.prefix(max(0, rollouts))) }
        files = sorted.map { ("\($0.deletingLastPathComponent().lastPathComponent)/\($0.lastPathComponent)", $0) }
    }

    /// The source for one side of upstream's file-list split, and for the validation side the
    /// fixed start frame of each of its trajectories in split order (the `.npy` array; entry i
    /// belongs to the i-th trajectory of the seed-shuffled validation order, as upstream pairs
    /// them). Relative paths are looked up in the current directory, then next to `configs/`.
    public static func make(loader: LoaderSettings, split: Split, configRoot: URL? = nil) throws -> (source: CSGOSource, fixedStartIndices: [Int]?) {
        guard loader.useAuxiliaryState != true else {
            throw DataError("dataset.loader.use_auxiliary_state=true is not implemented for CSGO (upstream raises too); set it to false")
        }
        guard let root = loader.dataPath else {
            throw DataError("dataset.loader.data_path is not set; set csgo_data_dir=/path/to/csgo (the folder holding 1-200/, 201-400/, …)")
        }
        let listKey = split == .train ? "train_file_list" : "val_file_list"
        guard let list = split == .train ? loader.trainFileList : loader.validationFileList else {
            throw DataError("dataset.loader.\(listKey) is not set; CSGO's split comes from its file lists (configs/dataset/game/csgo_splits)")
        }
        let source = try CSGOSource(root: URL(fileURLWithPath: root), fileList: resolve(list, configRoot: configRoot),
                                    rollouts: try loader.rolloutCount())
        guard split == .val, let path = loader.validationStartIndices,
              let starts = try RecordedDatasets.startIndices(loader, configRoot: configRoot) else { return (source, nil) }
        guard starts.count == source.trajectoryCount else {
            throw DataError("\(resolve(path, configRoot: configRoot).path): \(starts.count) start indices for \(source.trajectoryCount) validation episodes; they must pair one to one (check dataset.loader.val_file_list and n_rollout)")
        }
        return (source, starts)
    }

    public func trajectory(_ index: Int) throws -> TrajectoryRecord {
        let (id, url) = try file(index)
        let actions: Tensor
        if let cached = lock.withLock({ actionCache[index] }) {
            actions = cached
        } else {
            let hdf5 = try HDF5File(url: url)
            let rows = try (0..<Self.episodeLength).map { step -> Tensor in
                guard let (shape, _) = try hdf5.shape("frame_\(step)_y") else {
                    throw DataError("\(url.path): no 'frame_\(step)_y'; a CSGO episode has \(Self.episodeLength) steps (truncated file?), copy it again")
                }
                guard shape == [Self.actionSize] else {
                    throw DataError("\(url.path): 'frame_\(step)_y' has shape \(shape), CSGO actions are [\(Self.actionSize)] (spec.action_dim \(Self.actionSize))")
                }
                return try hdf5.read("frame_\(step)_y", as: .float32)
            }
            actions = try Tensor.stack(rows)
            lock.withLock { actionCache[index] = actions }
        }
        return TrajectoryRecord(states: try Tensor.zeros([Self.episodeLength, 0]), actions: actions,
                                length: Self.episodeLength, meta: ["episode_id": id])
    }

    public func frames(_ index: Int, start: Int, end: Int, step: Int) throws -> Tensor {
        let (_, url) = try file(index)
        let steps = Array(stride(from: start, to: end, by: step))
        guard !steps.isEmpty, steps[0] >= 0, steps.last! < Self.episodeLength else {
            throw DataError("\(url.path): frames \(start)..<\(end) do not lie in a \(Self.episodeLength)-step episode; the episode is shorter than the clip")
        }
        let hdf5 = try HDF5File(url: url)
        let frames = try steps.map { i -> Tensor in
            let frame = try hdf5.read("frame_\(i)_x", as: .uint8)
            guard frame.shape.count == 3, frame.shape[2] == 3, frame.shape[0] > 0, frame.shape[1] > 0 else {
                throw DataError("\(url.path): 'frame_\(i)_x' has shape \(frame.shape), expected [H, W, 3] BGR")
            }
            return frame
        }
        guard frames.allSatisfy({ $0.shape == frames[0].shape }) else {
            throw DataError("\(url.path): frames \(start)..<\(end) differ in size")
        }
        // Stored BGR: flip to RGB, then [n, 3, H, W] in [0, 1].
        return try Tensor.stack(frames).flip([3]).permute(0, 3, 1, 2).to(.float32) / 255.0
    }

    private func file(_ index: Int) throws -> (id: String, url: URL) {
        guard files.indices.contains(index) else { throw DataError("\(location): no episode \(index) (\(files.count) episodes)") }
        return files[index]
    }

    /// `hdf5_dm_july2021_<n>.hdf5` → n.
    static func number(_ url: URL) -> Int {
        Int(url.deletingPathExtension().lastPathComponent.split(separator: "_").last ?? "") ?? Int.max
    }

    /// The files a list names, each in its 200-file folder (or the 5401-5500 folder). A missing
    /// file is an error: upstream skips it, which silently shifts the fixed start pairing.
    private static func listed(in list: URL, root: URL) throws -> [URL] {
        guard let text = try? String(contentsOf: list, encoding: .utf8) else {
            throw DataError("\(list.path): no such file list; point dataset.loader.train_file_list/val_file_list at the CSGO split files")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return try names.map { name in
            guard let n = Int(name.replacingOccurrences(of: ".hdf5", with: "").split(separator: "_").last ?? "") else {
                throw DataError("\(list.path): '\(name)' is not a name like hdf5_dm_july2021_<n>.hdf5")
            }
            let lo = ((n - 1) / 200) * 200 + 1
            var candidates = [root.appendingPathComponent("\(lo)-\(lo + 199)/\(name)")]
            if (5401...5500).contains(n) { candidates.append(root.appendingPathComponent("5401-5500/\(name)")) }
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
                throw DataError("\(candidates[0].path): no such file (listed in \(list.lastPathComponent)); download the missing CSGO episode or remove it from the list")
            }
            return found
        }
    }

    private static func scanned(_ root: URL) throws -> [URL] {
        let all = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "hdf5" } ?? []
        guard !all.isEmpty else { throw DataError("\(root.path): no .hdf5 files found; set csgo_data_dir to the CSGO dataset folder") }
        return all
    }

    static func resolve(_ path: String, configRoot: URL?) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path) }
        let here = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: here.path) { return here }
        if let project = configRoot?.deletingLastPathComponent() {
            let there = project.appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: there.path) { return there }
        }
        return here
    }
}
