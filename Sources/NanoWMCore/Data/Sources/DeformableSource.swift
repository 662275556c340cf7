import Foundation
import SwiftTorch
import NanoWMFormats

/// DINO-WM's deformable-object datasets, rope and granular (upstream's
/// `DeformableEnvDataSource`), in `<data_path>/<object_name>/`: `states.pth` `[N, T, P, D]`
/// particles (flattened to `[N, T, P·D]`), `actions.pth` `[N, T, 4]`, every trajectory `T`
/// long, and frames in `NNNNNN/obses.pth` as uint8 `[T, H, W, C]`.
public final class DeformableSource: DinoWMTableSource, TrajectorySource {
    public init(path: String, objectName: String, actionScale: Double = 1, limit: Int? = nil) throws {
        let files = DinoWMFiles(path: StatisticsIdentity.pathlibText(path) + "/" + objectName, setting: "dataset.loader.data_path")
        let particles = try files.tensor("states.pth")
        guard particles.rank == 4 else {
            throw DataError("\(files.url("states.pth").path): shape \(particles.shape); deformable states are [N, T, particles, D]")
        }
        let states = try particles.reshape([particles.shape[0], particles.shape[1], particles.shape[2] * particles.shape[3]])
        let table = try TrajectoryTable(states: states, actions: try files.tensor("actions.pth"), lengths: nil, meta: nil,
                                        actionScale: actionScale, limit: limit, files: files, actionFile: "actions.pth")
        super.init(files: files, table: table)
    }

    public func frames(_ index: Int, start: Int, end: Int, step: Int) throws -> Tensor {
        let name = String(format: "%06d/obses.pth", index)
        let video = try episodes.frames(index) { try files.video(name, length: table.lengths[index]) }
        return try DinoWMFiles.frames(of: video, start: start, end: end, step: step, alwaysChannelsLast: true)
    }
}
