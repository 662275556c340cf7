import Foundation
import SwiftTorch

/// What the three DINO-WM readers (point_maze/wall, PushT, rope/granular) share: every
/// trajectory's metadata in one `TrajectoryTable`, the files in one folder, and a cache of
/// recently decoded episodes. Each reader adds how it finds and decodes an episode's frames.
public class DinoWMTableSource {
    let files: DinoWMFiles
    let table: TrajectoryTable
    /// Decoded episodes: one decode serves every clip of a trajectory (the exhaustive order).
    let episodes = RecentEpisodes()

    init(files: DinoWMFiles, table: TrajectoryTable) {
        self.files = files
        self.table = table
    }

    public var location: String { files.path }
    public var trajectoryCount: Int { table.count }
    public var actionDimension: Int { table.actions.shape[2] }
    public var stateDimension: Int { table.states.shape[2] }
    public func trajectory(_ index: Int) throws -> TrajectoryRecord { try table.record(index, location: location) }
    public var statisticsIdentity: (id: String, root: URL?) { StatisticsIdentity.dataPath(files.path) }
}
