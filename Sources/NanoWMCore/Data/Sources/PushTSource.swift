import Foundation
import SwiftTorch
import NanoWMFormats

/// DINO-WM's PushT dataset (upstream's `PushTDataSource`): `states.pth` (with `velocities.pth`
/// appended when present), `rel_actions.pth` or `abs_actions.pth` divided by `action_scale`
/// (100), the required `seq_lengths.pth|.pkl`, `shapes.pkl` (default "T"), and frames decoded
/// from `obses/episode_NNN.mp4` with OpenCV in decoding order (frame k is the k-th decoded
/// frame, the index decord's `get_batch` uses).
public final class PushTSource: DinoWMTableSource, TrajectorySource {
    public init(path: String, useRelativeActions: Bool, actionScale: Double = 100, limit: Int? = nil,
                setting: String = "dataset.loader.data_path") throws {
        let files = DinoWMFiles(path: path, setting: setting)
        var states = try files.tensor("states.pth")
        if files.exists("velocities.pth") {
            let velocities = try files.tensor("velocities.pth")
            guard velocities.rank == 3, Array(velocities.shape.prefix(2)) == Array(states.shape.prefix(2)) else {
                throw DataError("\(files.url("velocities.pth").path): shape \(velocities.shape) does not match states.pth \(states.shape) in [N, T]")
            }
            states = try Tensor.cat([try states.to(.float32), try velocities.to(.float32)], dim: -1)
        }
        let actionFile = useRelativeActions ? "rel_actions.pth" : "abs_actions.pth"
        guard let lengths = try files.sequenceLengths() else {
            throw DataError("\(files.path): missing seq_lengths.pth or seq_lengths.pkl, which PushT needs (copy it from the DINO-WM release)")
        }
        let shapes = try files.shapes() ?? Array(repeating: "T", count: states.shape[0])
        let table = try TrajectoryTable(states: states, actions: try files.tensor(actionFile), lengths: lengths,
                                        meta: TrajectoryTable.shapeMeta(shapes), actionScale: actionScale, limit: limit,
                                        files: files, actionFile: actionFile)
        super.init(files: files, table: table)
    }

    public func frames(_ index: Int, start: Int, end: Int, step: Int) throws -> Tensor {
        let url = files.url(String(format: "obses/episode_%03d.mp4", index))
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataError("\(url.path): missing; trajectory \(index) has no video (copy the DINO-WM release's obses/ folder completely)")
        }
        let video = try episodes.frames(index) {
            do {
                return try VideoFrameReader.frames(url, indices: Array(0..<table.lengths[index]))
            } catch let error as MediaError {
                throw DataError("\(error.description) (trajectory \(index) is \(table.lengths[index]) steps long in seq_lengths)")
            }
        }
        return try DinoWMFiles.frames(of: video, start: start, end: end, step: step)
    }
}
