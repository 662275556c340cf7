import Foundation
import SwiftTorch
import NanoWMFormats

/// Reading the files of a DINO-WM dataset folder (`torch.save` tensors and plain pickles) with
/// our own readers, turning every failure into one line that names the file and the fix.
public struct DinoWMFiles {
    /// The folder as upstream names it (`str(pathlib.Path(data_path))`), which its statistics
    /// cache hashes.
    public let path: String
    /// What the user sets to point here (`dataset_dir=…` through `dataset.loader.data_path`).
    public let setting: String

    public init(path: String, setting: String) {
        self.path = StatisticsIdentity.pathlibText(path)
        self.setting = setting
    }

    public var folder: URL { URL(fileURLWithPath: path) }
    public func url(_ name: String) -> URL { folder.appendingPathComponent(name) }
    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: url(name).path) }

    /// A `.pth` (torch.save) or `.pkl` (pickle) file's content as a tensor.
    public func tensor(_ name: String) throws -> Tensor {
        let path = url(name).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError("\(path): missing; a DINO-WM dataset folder holds \(name) (point \(setting) at the folder that has it)")
        }
        let value = try Self.value(at: path)
        guard let tensor = try Self.convert(value, path) else {
            throw DataError("\(path): holds a \(Self.kind(value)), not a tensor or array; re-save it with torch.save(tensor)")
        }
        return tensor
    }

    /// A pickle or torch.save file's object.
    static func value(at path: String) throws -> PickleValue {
        do {
            return path.hasSuffix(".pkl") ? try PickleFile.load(path) : try Checkpoint.open(path).root
        } catch let error as CheckpointError {
            throw DataError("\(error.description) (the file is truncated or not what DINO-WM writes; copy it again)")
        }
    }

    static func convert(_ value: PickleValue, _ path: String) throws -> Tensor? {
        do { return try value.numericTensor() } catch let error as PickleError {
            throw DataError("\(path): \(error.description)")
        } catch let error as TorchError {
            throw DataError("\(path): \(error)")
        }
    }

    static func kind(_ value: PickleValue) -> String {
        switch value {
        case .object(let o): return o.qualifiedName
        case .dict: return "dict"
        case .string: return "string"
        case .none: return "None"
        default: return "non-numeric value"
        }
    }

    /// `seq_lengths.pth` or `.pkl` (a tensor or list); nil when neither exists.
    public func sequenceLengths() throws -> [Int]? {
        for name in ["seq_lengths.pth", "seq_lengths.pkl"] where exists(name) {
            let lengths = try tensor(name)
            guard !lengths.dtype.isFloatingPoint, lengths.dtype != .bool else {
                throw DataError("\(url(name).path): holds \(lengths.dtype) values; trajectory lengths are integers (save them as int64)")
            }
            return try lengths.to(.int64).reshape([-1]).toArray(Int64.self).map(Int.init)
        }
        return nil
    }

    /// `shapes.pkl`: one shape name per trajectory; nil when absent.
    public func shapes() throws -> [String]? {
        guard exists("shapes.pkl") else { return nil }
        let path = url("shapes.pkl").path
        guard let items = try Self.value(at: path).items else {
            throw DataError("\(path): expected a list of shape names")
        }
        return items.map { $0.string ?? "\($0.int.map(String.init) ?? "?")" }
    }

    /// One episode file's uint8 frames `[T, H, W, C]`, checked to hold at least `length` frames.
    func video(_ name: String, length: Int) throws -> Tensor {
        let video = try tensor(name)
        guard video.rank == 4 else {
            throw DataError("\(url(name).path): frames have shape \(video.shape); expected [T, H, W, C] uint8")
        }
        guard video.shape[0] >= length else {
            throw DataError("\(url(name).path): holds \(video.shape[0]) frames but its trajectory is \(length) steps long (seq_lengths); the file is truncated or belongs to another dataset")
        }
        // The reader divides by 255, as upstream's does: float frames already in [0, 1] would
        // come out black, so they are refused instead of trained on.
        if video.dtype != .uint8, video.dtype.isFloatingPoint, video.count > 0, try video.max().item(Double.self) <= 1 {
            throw DataError("\(url(name).path): frames are \(video.dtype) in [0, 1], but DINO-WM files hold 0…255 (uint8) and are divided by 255 as the reference does, which would black these out; save them as uint8 (frames × 255)")
        }
        return video
    }

    /// Frames `start, start+step, … < end` as float32 `[n, C, H, W]` in [0, 1] (upstream: `/ 255`,
    /// channels moved first when the last dimension is 1 or 3, or always for deformable data).
    static func frames(of video: Tensor, start: Int, end: Int, step: Int, alwaysChannelsLast: Bool = false) throws -> Tensor {
        var frames = try video.slice(dim: 0, start: start, end: end, step: step).to(.float32) / 255.0
        if alwaysChannelsLast || [1, 3].contains(video.shape[3]) { frames = try frames.permute(0, 3, 1, 2) }
        return try frames.contiguous()
    }
}
