import Foundation
import NanoWMFormats
import SwiftTorch

/// DINO-WM's point_maze and wall datasets (upstream's `DinoWorldModelDataSource`, frames as
/// `.pth`): `states.pth`, `actions.pth` (else `rel_actions.pth`/`abs_actions.pth` by
/// `use_relative_actions`), `seq_lengths.pth|.pkl` (else every trajectory is full length),
/// optional `shapes.pkl`, and `obses/episode_NNN.pth` holding uint8 `[T, H, W, C]`.
public final class DinoWMSource: DinoWMTableSource, TrajectorySource {
    public init(path: String, actionScale: Double = 1, limit: Int? = nil, useRelativeActions: Bool = true,
                setting: String = "dataset.loader.data_path") throws {
        let files = DinoWMFiles(path: path, setting: setting)
        let states = try files.tensor("states.pth")
        let fallback = useRelativeActions ? "rel_actions.pth" : "abs_actions.pth"
        guard files.exists("actions.pth") || files.exists(fallback) else {
            throw DataError("\(files.url("actions.pth").path): missing (nor is there \(fallback), which upstream reads instead); point \(setting) at the dataset folder")
        }
        let actionFile = files.exists("actions.pth") ? "actions.pth" : fallback
        let table = try TrajectoryTable(states: states, actions: try files.tensor(actionFile),
                                        lengths: try files.sequenceLengths(), meta: TrajectoryTable.shapeMeta(try files.shapes()),
                                    actionScale: actionScale, limit: limit, files: files, actionFile: actionFile)
        super.init(files: files, table: table)
    }

    public func frames(_ index: Int, start: Int, end: Int, step: Int) throws -> Tensor {
        let name = String(format: "obses/episode_%03d.pth", index)
        let video = try episodes.frames(index) { try files.video(name, length: table.lengths[index]) }
        return try DinoWMFiles.frames(of: video, start: start, end: end, step: step)
    }
}
