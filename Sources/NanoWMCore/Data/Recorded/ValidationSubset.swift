import Foundation
import SwiftTorch
import PythonCompatible
import NanoWMConfiguration
import NanoWMFormats

/// Upstream's fixed validation subset (`validation_fixed_subset_*`,
/// `validation_subset.json`): `RandomState(seed).choice(M, size, replace=False)` over the
/// validation split's slices, stored as `{"dataset": {…}, "slices": [{traj_idx, start_frame,
/// end_frame}, …]}` in draw order, written as Python's `json.dump(indent=2)` writes it, so a
/// file from either side selects the same clips on the other.
public struct ValidationSubset {
    /// The `dataset` block: upstream's keys in its order, values as configured.
    public var dataset: [(key: String, value: ConfigNode)]
    public var slices: [ClipSlice]

    public init(dataset: [(key: String, value: ConfigNode)], slices: [ClipSlice]) {
        self.dataset = dataset
        self.slices = slices
    }

    /// `sample_fixed_slice_specs`: positions drawn from the slices (size capped at their count).
    public static func draw(from slices: [ClipSlice], size: Int, seed: Int) throws -> [ClipSlice] {
        guard size > 0 else { throw DataError("dataset.loader.validation_fixed_subset_size must be > 0 (got \(size))") }
        var random = try NumpyRandomState(seed: seed)
        return try random.choiceWithoutReplacement(slices.count, size: Swift.min(size, slices.count)).map { slices[$0] }
    }

    /// Which validation clips upstream validates on: with `validation_fixed_subset_path` or
    /// `_size` set, the stored subset (its file, `validation_subset.json` in the run folder by
    /// default) or a new one drawn with `_seed` and written there; otherwise the first
    /// `validation_size` clips (all of them when null). `slices` gives every clip of the
    /// validation split, asked for only when a subset is configured.
    public enum Choice: Equatable {
        case first(Int?)
        case subset([ClipSlice], file: URL?)
    }

    public static func choice(_ settings: DatasetSettings, runDirectory: URL?, slices: () throws -> [ClipSlice]) throws -> Choice {
        let loader = settings.loader
        let configuredPath = loader.fixedSubsetPath, size = loader.fixedSubsetSize
        guard configuredPath != nil || size != nil else { return .first(loader.validationSize) }
        let all = try slices()
        let url = configuredPath.map { URL(fileURLWithPath: $0) } ?? runDirectory?.appendingPathComponent("validation_subset.json")
        if let url, FileManager.default.fileExists(atPath: url.path) {
            let stored = try read(url)
            if let size, stored.slices.count != size {
                throw DataError("\(url.path): holds \(stored.slices.count) slices but dataset.loader.validation_fixed_subset_size is \(size); set it to \(stored.slices.count) or null, or delete the file")
            }
            return .subset(try select(stored.slices, from: all, file: url.path), file: url)
        }
        guard let size else { throw DataError("dataset.loader.validation_fixed_subset_size is needed to draw a new subset (no file at \(url?.path ?? "?"))") }
        guard let seed = loader.fixedSubsetSeed else {
            throw DataError("dataset.loader.validation_fixed_subset_seed is needed to draw a new subset")
        }
        let subset = ValidationSubset(dataset: settings.subsetHeader, slices: try draw(from: all, size: size, seed: seed))
        if let url { try subset.write(to: url) }
        return .subset(subset.slices, file: url)
    }

    /// How `choice` picks the clips under this configuration, in words (for `metrics.json`).
    public static func selectionText(_ loader: LoaderSettings) -> String {
        if let path = loader.fixedSubsetPath {
            return "the fixed subset stored in \(path) (dataset.loader.validation_fixed_subset_path)"
        }
        if let size = loader.fixedSubsetSize {
            let seed = loader.fixedSubsetSeed.map(String.init) ?? "null"
            return "a fixed subset of \(size) clips drawn with seed \(seed) (dataset.loader.validation_fixed_subset_size/_seed)"
        }
        if let size = loader.validationSize { return "the first \(size) clips (dataset.loader.validation_size)" }
        return "every validation clip (dataset.loader.validation_size is null)"
    }

    /// `set_fixed_slices`: each stored slice must be one of the split's slices.
    public static func select(_ wanted: [ClipSlice], from slices: [ClipSlice], file: String) throws -> [ClipSlice] {
        let known = Set(slices)
        if let missing = wanted.first(where: { !known.contains($0) }) {
            throw DataError("\(file): slice (traj_idx \(missing.trajectory), start_frame \(missing.start), end_frame \(missing.end)) is not in this validation split; the file was made for another dataset, split or clip length (delete it to draw a new subset)")
        }
        return wanted
    }

    public static func read(_ url: URL) throws -> ValidationSubset {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataError("\(url.path): cannot read the validation subset file")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DataError("\(url.path): not a JSON object; expected upstream's validation_subset.json ({\"dataset\": …, \"slices\": […]})")
        }
        let specs = root["slices"] as? [[String: Any]] ?? []
        guard !specs.isEmpty else { throw DataError("\(url.path): the validation subset file holds no slices") }
        let slices = try specs.enumerated().map { position, spec -> ClipSlice in
            guard let trajectory = spec["traj_idx"] as? Int, let start = spec["start_frame"] as? Int,
                  let end = spec["end_frame"] as? Int else {
                throw DataError("\(url.path): slice \(position) lacks integer traj_idx, start_frame and end_frame")
            }
            return ClipSlice(trajectory: trajectory, start: start, end: end)
        }
        return ValidationSubset(dataset: [], slices: slices)
    }

    /// Python's `json.dump(payload, f, indent=2)` text.
    public var json: String {
        let slices = slices.map { slice -> JSONValue in
            .object([("traj_idx", .int(slice.trajectory)), ("start_frame", .int(slice.start)), ("end_frame", .int(slice.end))])
        }
        return PythonJSON.dumps(.object([("dataset", .object(dataset.map { ($0.key, $0.value.jsonValue) })), ("slices", .array(slices))]), indent: 2)
    }

    public func write(to url: URL) throws {
        try Folder.create(url.deletingLastPathComponent())
        try AtomicFile.write(to: url.path) { Data(json.utf8) }
    }
}
