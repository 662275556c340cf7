import Foundation
import NanoWM
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// Loader speed: clips per second of our recorded-dataset reader against upstream's own
/// `create_train_val_datasets` (imported from the checkout given with --reference) on the same
/// files, threads and clip settings (4 frames every 5 steps, 224×224 frames stretched to
/// 256×256, normalised actions). Items are read in the exhaustive order training's first pass
/// and validation use; each measurement builds the dataset afresh, so no side starts warm.
func benchData(threads: Int, reference: String?) throws {
    guard let reference = try checkedReference(reference, suite: "data") else { return }
    try Torch.setNumThreads(threads)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-data-bench-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try runPython("""
    import os, cv2, numpy as np, torch
    rng = np.random.default_rng(0)
    def tables(root, n, t, rel):
        os.makedirs(root + '/obses', exist_ok=True)
        torch.save(torch.from_numpy(rng.normal(size=(n, t, 4)).astype(np.float32)), root + '/states.pth')
        torch.save(torch.from_numpy(rng.normal(size=(n, t, 2)).astype(np.float32)), root + ('/rel_actions.pth' if rel else '/actions.pth'))
        torch.save(torch.full((n,), t), root + '/seq_lengths.pth')
    tables('\(folder.path)/point_maze', 8, 50, False)
    for i in range(8):
        torch.save(torch.from_numpy(rng.integers(0, 256, (50, 224, 224, 3), dtype=np.uint8)), f'\(folder.path)/point_maze/obses/episode_{i:03d}.pth')
    for split in ('train', 'val'):
        root = f'\(folder.path)/pusht_noise/{split}'
        tables(root, 4, 50, True)
        for i in range(4):
            w = cv2.VideoWriter(f'{root}/obses/episode_{i:03d}.mp4', cv2.VideoWriter_fourcc(*'mp4v'), 10, (224, 224))
            for k in range(50):
                w.write(np.full((224, 224, 3), (5 * k + 40 * i) % 256, dtype=np.uint8))
            w.release()
    """)
    let clips = 48
    var rows: [(String, Double, Double)] = []
    for name in ["point_maze", "pusht"] {
        let config = try ConfigComposer.locate().composition(overrides: [
            "dataset=dino_wm/\(name)", "dataset_dir=\(folder.path)", "model.num_frames=4", "model.image_size=256",
            ]).resolved()
        var best = Double.infinity
        for _ in 0..<3 {
            let train = try RecordedDatasets(try DatasetSettings(config)).train
            let start = DispatchTime.now().uptimeNanoseconds
            for index in 0..<Swift.min(clips, train.count) { _ = try train.clip(at: index) }
            best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(Swift.min(clips, train.count)))
        }
        let paths = name == "pusht"
            ? "data_path_train='\(folder.path)/pusht_noise/train', data_path_val='\(folder.path)/pusht_noise/val', use_relative_actions=True, action_scale=100.0"
            : "data_path='\(folder.path)/point_maze'"
        let setup = """
        import sys, io, contextlib
        sys.path.insert(0, \(pythonString(reference + "/src")))
        from wm_datasets import create_train_val_datasets
        def fresh():
            with contextlib.redirect_stdout(io.StringIO()):
                return create_train_val_datasets(dataset_name='\(name)', num_frames=4, frame_interval=5, image_size=256,
                                                 split_ratio=0.9, normalize_action=True, random_seed=42, \(paths))[0]
        """
        let torch = try runTorchBaseline(["threads": threads, "cases": [
            ["name": name, "setup": setup, "iters": 1, "repeats": 3,
             "stmt": "train = fresh()\nfor i in range(min(\(clips), len(train))): train[i]"]]])
        // Upstream's measurement includes building the dataset; ours is timed without it, so
        // subtract upstream's build time measured alone.
        let build = try runTorchBaseline(["threads": threads, "cases": [
            ["name": "build", "setup": setup, "iters": 1, "repeats": 3, "stmt": "train = fresh()"]]])
        guard let total = torch[name] as? Double, let building = build["build"] as? Double else {
            throw BenchError("the PyTorch baseline gave no timing for \(name)")
        }
        rows.append(("\(name) clip (4×256²)", best * 1e3, Swift.max(total - building, 0) / Double(clips) * 1e3))
    }
    rows.append(try benchCSGOFrames(folder: folder, reference: reference, threads: threads))
    printComparison(title: "loader: ms per clip, exhaustive order, fresh dataset (\(threads) thread(s))", unit: "ms", rows: rows, goal: 1.0)
}

/// CSGO at the data-source level, where HDF5 is read: our CSGOSource (libhdf5 in the HDF5
/// reader process, one socket round trip per dataset) against upstream's CSGODataSource (h5py
/// in process), on two real-size episodes (1000 steps of 150×280×3 frames and 51 actions).
/// Each clip is an episode's actions and 4 frames every 5 steps; the episode's file is opened
/// anew for each clip on both sides, as both readers do.
private func benchCSGOFrames(folder: URL, reference: String, threads: Int) throws -> (String, Double, Double) {
    let root = folder.appendingPathComponent("csgo")
    try runPython("""
    import sys
    sys.path.insert(0, 'Tests/Fixtures')
    import format_datasets as fd
    fd.CSGO_FRAME = (150, 280, 3)
    fd.write_csgo(\(pythonString(root.path)), numbers=[1, 201])
    """)
    let list = root.appendingPathComponent("train_split.txt")
    let starts = (0..<48).map { ($0 % 2, ($0 * 97) % 980) }
    var best = Double.infinity
    for _ in 0..<3 {
        let source = try CSGOSource(root: root, fileList: list)
        let start = DispatchTime.now().uptimeNanoseconds
        for (episode, step) in starts {
            _ = try source.trajectory(episode)
            _ = try source.frames(episode, start: step, end: step + 20, step: 5)
        }
        best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(starts.count))
    }
    let setup = """
    import sys, io, contextlib
    sys.path.insert(0, \(pythonString(reference + "/src")))
    from wm_datasets.data_source.game.csgo_data_source import CSGODataSource
    starts = \(starts.map { [$0.0, $0.1] })
    def fresh():
        with contextlib.redirect_stdout(io.StringIO()):
            return CSGODataSource(data_path=\(pythonString(root.path)), file_list=\(pythonString(list.path)))
    """
    let torch = try runTorchBaseline(["threads": threads, "cases": [
        ["name": "csgo", "setup": setup, "iters": 1, "repeats": 3,
         "stmt": "source = fresh()\nfor e, s in starts: source.load_trajectory(e); source.load_visual_frames(e, s, s + 20, 5)"]]])
    guard let total = torch["csgo"] as? Double else { throw BenchError("the PyTorch baseline gave no timing for csgo") }
    return ("csgo clip (4×150×280, HDF5)", best * 1e3, total / Double(starts.count) * 1e3)
}
