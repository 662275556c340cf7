import Foundation
import NanoWMConfiguration
import SwiftTorch
import NanoWMFormats

/// A LeRobot v2.x dataset read directly from its folder (RT-1 "fractal" as upstream trains on
/// it through `lerobot==0.3.3`): `meta/info.json` (path templates, `chunks_size`, `fps`,
/// feature shapes), `meta/episodes.jsonl` (episode lengths, whose running sums are LeRobot's
/// `episode_data_index`), `meta/stats.json` (whole-dataset statistics), one parquet file per
/// episode with per-frame `observation.state`, `action` and `timestamp`, and one video per
/// episode and camera, decoded with OpenCV at the frames the timestamps name.
public final class LeRobotSource: TrajectorySource {
    public struct Episode: Equatable {
        /// The `episode_index` the files are named by.
        public var number: Int
        public var length: Int
        /// Global frame offset (LeRobot's `episode_data_index["from"]`).
        public var globalStart: Int
    }

    public let root: URL
    public let repoID: String
    public let imageKey: String
    public let padActionDimension: Int?
    public let episodes: [Episode]
    public let fps: Double
    public let stateDimension: Int
    public let nativeActionDimension: Int
    private let chunkSize: Int
    private let dataTemplate: String
    private let videoTemplate: String
    private let lock = NSLock()
    private var cache: [Int: TrajectoryRecord] = [:]
    private var timestampCache: [Int: [Double]] = [:]

    public var location: String { root.path }
    public var trajectoryCount: Int { episodes.count }
    public var actionDimension: Int { padActionDimension ?? nativeActionDimension }
    public var statisticsIdentity: (id: String, root: URL?) {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder) && isFolder.boolValue
        return ("repo_id=\(repoID)", exists ? root : nil)
    }

    /// - Parameters:
    ///   - rollouts: upstream's `n_rollout`: the first N episodes, or that fraction of them when in (0, 1).
    ///   - padActionDimension: zero-pads actions (and pads statistics with mean 0, std 1) to this size.
    public init(root: URL, repoID: String, imageKey: String = "observation.images.image",
                rollouts: Double? = nil, padActionDimension: Int? = nil) throws {
        self.root = root
        self.repoID = repoID
        self.imageKey = imageKey
        let info = try Self.json(root, "meta/info.json", fix: "download the LeRobot dataset \(repoID) there (or point dataset.loader.root / RT1_DATA_ROOT at it)")
        guard let version = info["codebase_version"] as? String, version.hasPrefix("v2.") else {
            throw DataError("\(root.path)/meta/info.json: codebase_version \(info["codebase_version"] ?? "missing") is not a LeRobot v2.x layout; convert the dataset with LeRobot 0.3.x")
        }
        guard let dataPath = info["data_path"] as? String, let chunks = info["chunks_size"] as? Int, chunks > 0,
              let fps = (info["fps"] as? NSNumber)?.doubleValue, fps > 0, let features = info["features"] as? [String: Any] else {
            throw DataError("\(root.path)/meta/info.json: needs data_path, chunks_size, fps and features (corrupt metadata)")
        }
        func dimension(_ key: String) throws -> Int {
            guard let feature = features[key] as? [String: Any], let shape = feature["shape"] as? [Int], shape.count == 1 else {
                throw DataError("\(root.path)/meta/info.json: feature '\(key)' is missing or not a vector; LeRobot robot datasets carry it")
            }
            return shape[0]
        }
        stateDimension = try dimension("observation.state")
        nativeActionDimension = try dimension("action")
        guard (features[imageKey] as? [String: Any])?["dtype"] as? String == "video", let videoPath = info["video_path"] as? String else {
            throw DataError("\(root.path)/meta/info.json: '\(imageKey)' is not a video feature (video features: \(Self.videoKeys(features).joined(separator: ", "))); set dataset.loader.image_key")
        }
        if let pad = padActionDimension, pad < nativeActionDimension {
            throw DataError("dataset.loader.pad_action_dim (\(pad)) must be >= the dataset's action dimension (\(nativeActionDimension))")
        }
        self.padActionDimension = padActionDimension
        self.fps = fps
        chunkSize = chunks
        for (key, template) in [("data_path", dataPath), ("video_path", videoPath)] {
            try Self.requireInside(root, template, key: key)
        }
        dataTemplate = dataPath
        videoTemplate = videoPath
        episodes = try Self.episodes(root, rollouts: rollouts)
    }

    /// The source upstream's factory builds for `dataset.name: rt1` from `dataset.loader`:
    /// `data_path` is the repository id, `root` the local copy (LeRobot's default when unset:
    /// `$HF_LEROBOT_HOME/<repo id>`, `~/.cache/huggingface/lerobot/<repo id>`), `image_key`,
    /// `n_rollout`, `pad_action_dim`, and `preload_trajectories` (reads every episode's
    /// actions now instead of on first use).
    public static func make(loader: LoaderSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LeRobotSource {
        guard let repo = loader.dataPath ?? loader.repositoryID else {
            throw DataError("dataset.loader.data_path is not set; set it to the LeRobot repository id (IPEC-COMMUNITY/fractal20220817_data_lerobot)")
        }
        let home = environment["HF_LEROBOT_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/huggingface/lerobot")
        let root = loader.root.map { URL(fileURLWithPath: $0) } ?? home.appendingPathComponent(repo)
        let source = try LeRobotSource(root: root, repoID: repo,
                                       imageKey: loader.imageKey ?? "observation.images.image",
                                       rollouts: loader.rollouts,
                                       padActionDimension: loader.padActionDimension)
        if loader.preloadTrajectories == true {
            for index in 0..<source.trajectoryCount { _ = try source.trajectory(index) }
        }
        return source
    }

    public func trajectory(_ index: Int) throws -> TrajectoryRecord {
        if let cached = lock.withLock({ cache[index] }) { return cached }
        let episode = try self.episode(index)
        let table = try ParquetFile(url: dataURL(episode))
        guard table.rowCount == episode.length else {
            throw DataError("\(table.url.path): \(table.rowCount) rows, meta/episodes.jsonl says \(episode.length); the dataset copy is inconsistent, download it again")
        }
        let states = try matrix(table, "observation.state", width: stateDimension)
        var actions = try matrix(table, "action", width: nativeActionDimension)
        if let pad = padActionDimension, pad > nativeActionDimension {
            actions = try actions.pad([0, pad - nativeActionDimension])
        }
        let record = TrajectoryRecord(states: states, actions: actions, length: episode.length,
                                      meta: ["episode_index": "\(index)", "global_start": "\(episode.globalStart)"])
        lock.withLock { cache[index] = record }
        return record
    }

    public func frames(_ index: Int, start: Int, end: Int, step: Int) throws -> Tensor {
        let episode = try self.episode(index)
        let wanted = Array(stride(from: start, to: end, by: step))
        guard let last = wanted.last, wanted[0] >= 0, last < episode.length else {
            throw DataError("\(dataURL(episode).path): frames \(start)..<\(end) do not lie in episode \(episode.number) (\(episode.length) frames); the episode is shorter than the clip")
        }
        let stamps = try timestamps(index, episode)
        let url = videoURL(episode)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataError("\(url.path): no such video; download the dataset's videos too")
        }
        let video = try MP4Writer.read(url)
        let positions = wanted.map { Int((stamps[$0] * fps).rounded()) }
        guard let beyond = positions.first(where: { $0 < 0 || $0 >= video.shape[0] }) else {
            return try video.indexSelect(dim: 0, index: Tensor(positions.map(Int64.init))).to(.float32) / 255.0
        }
        throw DataError("\(url.path): has \(video.shape[0]) frames, episode \(episode.number) needs frame \(beyond) (truncated video); download it again")
    }

    /// Each frame's `timestamp` (read once per episode): LeRobot looks frames up by it, and with
    /// one video per episode starting at 0 that is video frame round(timestamp · fps).
    private func timestamps(_ index: Int, _ episode: Episode) throws -> [Double] {
        if let cached = lock.withLock({ timestampCache[index] }) { return cached }
        let table = try ParquetFile(url: dataURL(episode))
        guard let stamps = try table.read(column: "timestamp").doubles, stamps.count == episode.length else {
            throw DataError("\(table.url.path): 'timestamp' is not one number per frame as meta/episodes.jsonl says; the dataset copy is corrupt, download it again")
        }
        lock.withLock { timestampCache[index] = stamps }
        return stamps
    }

    public func shippedActionStatistics() throws -> (mean: Tensor, std: Tensor)? {
        let stats = try Self.json(root, "meta/stats.json", fix: "LeRobot v2.0 datasets ship it; download the dataset's meta folder again")
        guard let action = stats["action"] as? [String: Any], let mean = action["mean"] as? [Double], let std = action["std"] as? [Double],
              mean.count == nativeActionDimension, std.count == nativeActionDimension else {
            throw DataError("\(root.path)/meta/stats.json: action mean/std are missing or not \(nativeActionDimension) numbers (corrupt metadata)")
        }
        let extra = actionDimension - nativeActionDimension
        return (try Tensor((mean + Array(repeating: 0, count: extra)).map(Float.init)),
                try Tensor((std + Array(repeating: 1, count: extra)).map(Float.init)))
    }

    private func episode(_ index: Int) throws -> Episode {
        guard episodes.indices.contains(index) else { throw DataError("\(location): no episode \(index) (\(episodes.count) episodes)") }
        return episodes[index]
    }

    private func path(_ template: String, _ episode: Episode, videoKey: String = "") -> URL {
        root.appendingPathComponent(PythonFormat.format(template, ["episode_chunk": episode.number / chunkSize,
                                                                   "episode_index": episode.number, "video_key": videoKey]))
    }

    /// A path template of info.json must name files inside the dataset (a `..` or an absolute
    /// path would make the reader open whatever it names).
    private static func requireInside(_ root: URL, _ template: String, key: String) throws {
        let sample = PythonFormat.format(template, ["episode_chunk": 0, "episode_index": 0, "video_key": "key"])
        let base = root.standardizedFileURL.path
        guard !template.hasPrefix("/"), !sample.split(separator: "/").contains(".."),
              root.appendingPathComponent(sample).standardizedFileURL.path.hasPrefix(base + "/") else {
            throw DataError("\(root.path)/meta/info.json: \(key) '\(template)' leads outside the dataset folder; refused (corrupt or hostile metadata)")
        }
    }

    func dataURL(_ episode: Episode) -> URL { path(dataTemplate, episode) }
    func videoURL(_ episode: Episode) -> URL { path(videoTemplate, episode, videoKey: imageKey) }

    /// A list column of fixed width as float32 `[rows, width]`.
    private func matrix(_ table: ParquetFile, _ column: String, width: Int) throws -> Tensor {
        let data = try table.read(column: column)
        guard let offsets = data.rowOffsets, let values = data.doubles,
              zip(offsets, offsets.dropFirst()).allSatisfy({ $1 - $0 == width }) else {
            throw DataError("\(table.url.path): '\(column)' is not \(width) numbers per frame as meta/info.json states; the dataset disagrees with its metadata")
        }
        return try Tensor(values.map(Float.init), shape: [data.rowCount, width])
    }

    private static func videoKeys(_ features: [String: Any]) -> [String] {
        features.filter { ($0.value as? [String: Any])?["dtype"] as? String == "video" }.map(\.key).sorted()
    }

    private static func json(_ root: URL, _ name: String, fix: String) throws -> [String: Any] {
        let url = root.appendingPathComponent(name)
        let data: Data
        do { data = try RegularFile.data(url.path) } catch { throw DataError("\(error); \(fix)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DataError("\(url.path): not a JSON object (truncated or corrupt); \(fix)")
        }
        return object
    }

    /// Episodes sorted by `episode_index`, the first `rollouts` of them, with global offsets.
    private static func episodes(_ root: URL, rollouts: Double?) throws -> [Episode] {
        let url = root.appendingPathComponent("meta/episodes.jsonl")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw DataError("\(url.path): no such file; download the dataset's meta folder")
        }
        var all: [(Int, Int)] = []
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() where !line.allSatisfy(\.isWhitespace) {
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let number = entry["episode_index"] as? Int, let length = entry["length"] as? Int, number >= 0, length >= 0 else {
                throw DataError("\(url.path): line \(n + 1) lacks episode_index/length (corrupt metadata); download the meta folder again")
            }
            all.append((number, length))
        }
        all.sort { $0.0 < $1.0 }
        if let rollouts {
            let count = rollouts > 0 && rollouts < 1 ? Int(Double(all.count) * rollouts) : Int(rollouts)
            // upstream asks LeRobot for episodes 0..<count by number
            let chosen = (0..<max(0, count)).map { number in all.first { $0.0 == number } }
            guard chosen.allSatisfy({ $0 != nil }) else {
                throw DataError("\(url.path): dataset.loader.n_rollout=\(count) asks for episodes 0..<\(count), but not all are listed; lower n_rollout")
            }
            all = chosen.compactMap { $0 }
        }
        var start = 0
        return all.map { number, length in
            defer { start += length }
            return Episode(number: number, length: length, globalStart: start)
        }
    }
}

/// The subset of Python's `str.format` that LeRobot's path templates use: `{name}` and
/// `{name:0Nd}`.
enum PythonFormat {
    static func format(_ template: String, _ values: [String: Any]) -> String {
        var out = "", field = "", inField = false
        for character in template {
            if inField {
                if character == "}" {
                    out += render(field, values)
                    inField = false
                    field = ""
                } else { field.append(character) }
            } else if character == "{" { inField = true } else { out.append(character) }
        }
        return out
    }

    private static func render(_ field: String, _ values: [String: Any]) -> String {
        let parts = field.split(separator: ":", maxSplits: 1).map(String.init)
        guard let value = values[parts.first ?? ""] else { return "{\(field)}" }
        if parts.count == 2, let number = value as? Int, parts[1].hasSuffix("d") {
            let width = Int(parts[1].dropLast().drop { $0 == "0" }) ?? 0
            let digits = String(number)
            return parts[1].hasPrefix("0") ? String(repeating: "0", count: max(0, width - digits.count)) + digits
                : String(repeating: " ", count: max(0, width - digits.count)) + digits
        }
        return "\(value)"
    }
}
