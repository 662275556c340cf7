import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// `logger=wandb` as the reference's users have it: `nanowm train` streams its records to W&B's
/// own SDK (a companion process), here in offline mode, and the run file it leaves is read back
/// with the SDK's protobuf schema (Tests/Fixtures/wandb_records.py). A missing SDK or a
/// companion that dies never stops training.
final class WandbLoggingTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var run: URL { scratch.url.appendingPathComponent("run") }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("wandb-tests") }
    override func tearDown() { scratch.remove() }

    private func arguments(steps: Int, python: String = PyTorchBaseline.pythonPath, _ extra: [String] = []) -> [String] {
        ["train", "--run-dir", run.path]
            + TinyTraining.overrides(dataDirectory: scratch.url.appendingPathComponent("data"), [
                "wandb.enabled=true", "wandb.mode=offline", "wandb.python=\(python)", "wandb.project=nanowm-tests",
                "experiment.training.max_steps=\(steps)", "experiment.training.val_every_n_steps=20",
                "experiment.evaluation.metrics.log_every_n_train_steps=20",
                "experiment.training.checkpointing.latest.every_n_train_steps=20",
                "experiment.training.checkpointing.across_timesteps.every_n_train_steps=1000"] + extra)
    }

    private var runFile: String {
        get throws {
            let folder = run.appendingPathComponent("wandb")
            let runs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("offline-run-") }
            XCTAssertEqual(runs.count, 1, "\(runs)")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(runs[0]).path)
            let name = try XCTUnwrap(files.first { $0.hasSuffix(".wandb") })
            return folder.appendingPathComponent(runs[0]).appendingPathComponent(name).path
        }
    }

    /// A 60-step run evaluating every 20 steps: the W&B run holds every scalar TensorBoard
    /// holds, at the same steps with the same values (TensorBoard keeps float32), and each
    /// `val_vis` image and video, the same file TensorBoard shows; its name and config are the
    /// reference's; `wandb sync` accepts the run folder.
    func testOfflineRunHoldsWhatTensorBoardHolds() throws {
        let result = try NanoWMExecutable.run(arguments(steps: 60))
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("W&B: run "), result.output)
        let file = try runFile
        let python = try PyTorchBaseline.shared.run("""
        import sys, os, subprocess
        import numpy as np
        sys.path.insert(0, \(pythonString(PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures").path)))
        import wandb_records
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(\(pythonString(run.appendingPathComponent("tensorboard").path)), size_guidance={'images': 0, 'scalars': 0})
        acc.Reload()
        rows = {}
        for row in wandb_records.history(\(pythonString(file))):
            rows.setdefault(row['_step'], {}).update(row)
        compared = 0
        for tag in acc.Tags()['scalars']:
            if tag.startswith('system/'):
                continue  # CPU and RAM: W&B measures its own
            for event in acc.Scalars(tag):
                ours = rows[event.step][tag]
                assert np.float32(ours) == np.float32(event.value), (tag, event.step, ours, event.value)
                compared += 1
        evaluated = sorted(s for s, row in rows.items() if 'val_eval/psnr' in row)
        assert evaluated == [20, 40, 60], evaluated
        media = 0
        base = os.path.dirname(\(pythonString(file)))
        for tag in acc.Tags()['images']:
            assert tag.startswith('val_vis/'), tag
            for event in acc.Images(tag):
                info = {k[len(tag) + 1:]: v for k, v in rows[event.step].items() if k.startswith(tag + '/')}
                assert info.get('_type') in ('image-file', 'video-file'), (tag, info)
                stored = open(os.path.join(base, 'files', info['path']), 'rb').read()
                assert stored == event.encoded_image_string, tag
                media += 1
        info = wandb_records.run_info(\(pythonString(file)))
        config = info['config']
        assert info['name'] == f"{config['model']['name']}-F3-{config['dataset']['name']}-x", info['name']
        assert info['project'] == 'nanowm-tests', info['project']
        assert config['experiment']['training']['max_steps'] == 60, config['experiment']['training']
        sync = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'wandb'), 'sync', '--dry-run', base],
                              capture_output=True, text=True)
        assert sync.returncode == 0 and 'Would sync 1 run' in sync.stdout + sync.stderr, sync
        O['scalars'] = torch.tensor(compared)
        O['media'] = torch.tensor(media)
        """)
        XCTAssertGreaterThanOrEqual(try python["scalars"]?.item(Int.self) ?? 0, 60 * 3 + 3 * 4)
        XCTAssertGreaterThanOrEqual(try python["media"]?.item(Int.self) ?? 0, 3 * 4)
    }

    /// A resumed run continues the same W&B run (the id it left in the run folder).
    func testResumedRunContinuesTheWandbRun() throws {
        XCTAssertEqual(try NanoWMExecutable.run(arguments(steps: 20)).status, 0)
        let first = try String(contentsOf: run.appendingPathComponent("wandb/nanowm_run_id"), encoding: .utf8)
        let resumed = try NanoWMExecutable.run(arguments(steps: 40))
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.output.contains("W&B: run \(first.trimmingCharacters(in: .newlines)) "), resumed.output)
    }

    /// No Python with W&B's SDK: one line says so and training runs to the end.
    func testWithoutTheSDKTrainingGoesOnWithTensorBoard() throws {
        let missing = try NanoWMExecutable.run(arguments(steps: 3, python: "/nonexistent/python3"))
        XCTAssertEqual(missing.status, 0, missing.error)
        let lines = missing.output.split(separator: "\n").filter { $0.hasPrefix("W&B:") }
        XCTAssertEqual(lines, ["W&B: no /nonexistent/python3 to run W&B's SDK with; set wandb.python to a Python with the wandb package; logging to TensorBoard only"])
        // A Python without the package (the system's, with no site packages).
        scratch.remove()
        scratch = try TemporaryDirectory("wandb-tests")
        let bare = try NanoWMExecutable.run(arguments(steps: 3, python: "/usr/bin/python3"), environment: ["PYTHONNOUSERSITE": "1"])
        XCTAssertEqual(bare.status, 0, bare.error)
        let bareLines = bare.output.split(separator: "\n").filter { $0.hasPrefix("W&B:") }
        XCTAssertEqual(bareLines.count, 1, bare.output)
        XCTAssertTrue(bareLines.first?.contains("cannot import the wandb package") ?? false, bare.output)
        XCTAssertNotNil(FileManager.default.contents(atPath: run.appendingPathComponent("checkpoints/latest").path + "/latest-epoch=0-step=3.ckpt"))
    }

    /// The companion killed mid-run: training goes on to its last step, says so once, and the
    /// run ends with status 0.
    func testKilledCompanionIsNamedOnceAndTrainingGoesOn() throws {
        let process = Process()
        process.executableURL = NanoWMExecutable.url
        process.arguments = arguments(steps: 400, ["experiment.training.val_every_n_steps=1000"])
        let output = scratch.url.appendingPathComponent("output.txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The companion has started W&B once the run says so; then it is killed.
        let deadline = Date().addingTimeInterval(120)
        var companion: pid_t?
        while companion == nil, process.isRunning, Date() < deadline {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if text.contains("W&B: run ") {
                companion = childProcesses(of: process.processIdentifier).first { processName($0)?.hasPrefix("python") ?? false }
            }
            if companion == nil { usleep(20_000) }
        }
        let killed = try XCTUnwrap(companion, "no W&B companion seen")
        XCTAssertEqual(kill(killed, SIGKILL), 0)
        process.waitUntilExit()
        let text = try String(contentsOf: output, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 0, text)
        let notes = text.split(separator: "\n").filter { $0.hasPrefix("W&B: the companion process") }
        XCTAssertEqual(notes, ["W&B: the companion process was killed by signal 9; training goes on, logging to TensorBoard only"], text)
        let log = try String(contentsOf: run.appendingPathComponent("train.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("step 400: "), "training did not reach its last step")
        XCTAssertTrue(log.contains("W&B: the companion process was killed"), log)
    }
}
