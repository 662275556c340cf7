import Foundation
import SwiftTorch

/// The small DINO-WM-format datasets under Tests/Fixtures/datasets and what upstream's dataset
/// classes returned for them (make_dataset_fixtures.py). Tests work on a copy, so statistics
/// caches and run files never land in the repository.
public enum DatasetFixtures {
    public static let directory = FixtureFile.directory.appendingPathComponent("datasets")

    /// Copies the datasets (laid out as `${DATASET_DIR}`, without the reference outputs) to
    /// `folder`, which becomes a `dataset_dir`.
    public static func copy(to folder: URL) throws {
        try FileManager.default.copyItem(at: directory, to: folder)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("reference"))
    }

    /// The reference's items (`train.video`, …) and facts (orders, slices, subset JSON, …).
    public static func reference(_ name: String) throws -> (tensors: [String: Tensor], info: [String: Any]) {
        let base = directory.appendingPathComponent("reference/\(name)")
        let tensors = try SafeTensors.read(base.path + ".safetensors").tensors
        return (tensors, try jsonObject(atPath: base.path + ".json"))
    }

    /// Overrides that select dataset `name` in `dataRoot` with the fixtures' clip settings
    /// (4 frames of 8×8; wall letterboxed, as the fixtures were made).
    public static func overrides(_ name: String, dataRoot: URL, imageSize: Int = 8) -> [String] {
        ["dataset=dino_wm/\(name)", "dataset_dir=\(dataRoot.path)", "model.num_frames=4", "model.image_size=\(imageSize)"]
            + (name == "wall" ? ["+dataset.loader.resize_mode=pad"] : [])
    }
}
