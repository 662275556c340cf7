import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore

/// Training from configs at toy size: exact resume, crash-safe checkpoints, Lightning
/// compatibility with upstream's `pretrained` loading, TensorBoard output and Ctrl-C.
final class TrainingTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var directory: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("training-tests") }
    override func tearDown() { scratch.remove() }

    private func overrides(_ extra: [String] = []) -> [String] {
        TinyTraining.overrides(dataDirectory: directory.appendingPathComponent("data"), extra)
    }

    private func job(_ name: String, _ extra: [String] = []) throws -> TrainingJob {
        let composition = try ConfigComposer.locate().composition(overrides: overrides(extra))
        return try TrainingJob(composition: composition, runDirectory: directory.appendingPathComponent(name), log: { _ in })
    }

    /// The trainer under the reference's update rule: with one micro-batch per step its
    /// clipping (from step 2 here) cannot change an update, so the weights equal those of a run
    /// that measures each step's norm and never clips, and the norm it logs at step n is that
    /// run's norm of step n − 1 (0 at the first step).
    func testReferenceRuleLogsThePreviousNormAndNeverClips() throws {
        var norms: [String: [Double]] = [:]
        var weights: [String: [(String, Tensor)]] = [:]
        for (name, extra) in [("reference", ["experiment.training.apply_gradient_clip=false"]),
                              ("measured", ["experiment.training.apply_gradient_clip=true", "experiment.training.gradient_clip_start_step=1000000"])] {
            try manualSeed(0)
            let run = try job(name, extra + ["experiment.training.max_steps=4"])
            run.trainer.callbacks.append(StepCallback(afterStep: { _, metrics in norms[name, default: []].append(metrics.gradientNorm) }))
            try run.trainer.fit(showProgress: false)
            weights[name] = run.trainer.model.stateDict()
        }
        let (reference, measured) = (try XCTUnwrap(norms["reference"]), try XCTUnwrap(norms["measured"]))
        XCTAssertEqual(reference, [0] + measured.dropLast())
        XCTAssertTrue(measured.allSatisfy { $0 > 0.1 }, "clipping at 0.1 would have changed the updates: \(measured)")
        for ((key, a), (_, b)) in zip(try XCTUnwrap(weights["reference"]), try XCTUnwrap(weights["measured"])) {
            try assertExactlyEqual(a, b, key)
        }
    }

    /// Train 6 steps at once, or 3 then resume for 3 more: parameters are bitwise equal.
    func testResumeContinuesBitForBit() throws {
        let straight = try job("straight")
        try straight.trainer.fit(showProgress: false)

        let first = try job("first", ["experiment.training.max_steps=3"])
        try first.trainer.fit(showProgress: false)
        let checkpoint = try XCTUnwrap(first.run.latestCheckpoint)
        XCTAssertTrue(checkpoint.lastPathComponent.hasSuffix("step=3.ckpt"), checkpoint.lastPathComponent)
        // Disturb the global generator, as a new process would start from its own state.
        try manualSeed(999)
        let resumed = try job("resumed", ["experiment.resume_from_checkpoint=\(checkpoint.path)"])
        XCTAssertEqual(resumed.trainer.step, 3)
        try resumed.trainer.fit(showProgress: false)

        XCTAssertEqual(resumed.trainer.step, straight.trainer.step)
        for ((name, a), (_, b)) in zip(straight.trainer.model.stateDict(), resumed.trainer.model.stateDict()) {
            try assertExactlyEqual(b, a, name)
        }
        for (i, (a, b)) in zip(straight.trainer.optimizer.state, resumed.trainer.optimizer.state).enumerated() {
            XCTAssertEqual(a?.step, b?.step, "optimizer step of parameter \(i)")
            if let a, let b { try assertExactlyEqual(b.expAvgSq, a.expAvgSq, "exp_avg_sq \(i)") }
        }
        // Both kinds of checkpoint were written where upstream writes them.
        let periodic = straight.run.checkpoints.appendingPathComponent("across_timesteps")
        let perEpoch = straight.trainer.batches.batchesPerEpoch
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: periodic.path).sorted(),
                       [3, 6].map { "epoch=\($0 / perEpoch)-step=\($0).ckpt" }.sorted())
    }

    /// Upstream's `pretrained` path reads our checkpoint strictly: Lightning layout, `model.`
    /// prefix, torch.load-able, keys and values identical to the model's state dict.
    func testCheckpointLoadsThroughUpstreamPretrainedLogic() throws {
        let run = try job("lightning", ["experiment.training.max_steps=3"])
        try run.trainer.fit(showProgress: false)
        let checkpoint = try XCTUnwrap(run.run.latestCheckpoint)
        let weights = Dictionary(uniqueKeysWithValues: run.trainer.model.stateDict())
        // The selection and prefix rules of upstream's TrainExperiment._load_pretrained_parameters.
        let python = try PyTorchBaseline.shared.run("""
        ck = torch.load(\(pythonString(checkpoint.path)), map_location='cpu', weights_only=True)
        raw = ck['state_dict'] if isinstance(ck, dict) and 'state_dict' in ck else ck
        has_prefix = any(k.startswith('model.') for k in raw)
        clean = {}
        for k, v in raw.items():
            if has_prefix:
                if not k.startswith('model.'):
                    continue
                k = k[len('model.'):]
            if k.startswith('_orig_mod.'):
                k = k[len('_orig_mod.'):]
            clean[k] = v
        assert set(clean) == set(I), sorted(set(clean) ^ set(I))
        for k in I:
            assert clean[k].shape == I[k].shape and torch.equal(clean[k], I[k]), k
        assert ck['global_step'] == 3 and 'optimizer_states' in ck and 'epoch' in ck
        st = ck['optimizer_states'][0]
        assert len(st['param_groups'][0]['params']) == len(I)
        opt = torch.optim.AdamW([torch.nn.Parameter(v.clone()) for v in I.values()])
        opt.load_state_dict(st)
        O['n'] = torch.tensor(len(clean))
        """, inputs: weights)
        XCTAssertEqual(try python["n"]?.item(Int.self), weights.count)
    }

    func testTensorBoardReaderSeesTrainingScalars() throws {
        let run = try job("tensorboard", ["experiment.training.max_steps=3"])
        try run.train(showProgress: false)
        let python = try PyTorchBaseline.shared.run("""
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(\(pythonString(run.run.tensorboard.path)))
        acc.Reload()
        tags = acc.Tags()['scalars']
        for tag in ['train_loss', 'gradient_norm', 'lr-AdamW', 'val_loss']:
            assert tag in tags, tags
        O['steps'] = torch.tensor([e.step for e in acc.Scalars('train_loss')])
        O['system'] = torch.tensor(int(any(t.startswith('system/') for t in tags)))
        """)
        XCTAssertEqual(try XCTUnwrap(python["steps"]).toArray(Int64.self), [1, 2, 3])
        XCTAssertEqual(try python["system"]?.item(Int.self), 1)
    }

    /// Killing the trainer at random moments (SIGKILL, so no cleanup runs) never leaves a
    /// damaged checkpoint: whatever `latest/` holds loads in PyTorch.
    func testKilledWhileCheckpointingLeavesLoadableCheckpoint() throws {
        let runFolder = directory.appendingPathComponent("killed")
        var arguments = ["train", "--run-dir", runFolder.path] + overrides(["experiment.training.max_steps=100000",
            "experiment.training.checkpointing.latest.every_n_train_steps=1", "model.hidden_size=128", "model.depth=4"])
        arguments.removeAll { $0.hasPrefix("experiment.training.checkpointing.latest.every_n_train_steps=3") }
        let latest = runFolder.appendingPathComponent("checkpoints/latest")
        // Each run is killed a little after it has written a checkpoint of its own, so the kill
        // lands while it checkpoints (every step) whatever the machine's speed.
        for delay in [0.0, 0.35, 0.7] {
            let started = Date()
            let process = Process()
            process.executableURL = NanoWMExecutable.url
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let wrote = Self.waitForCheckpoint(in: latest, newerThan: started, while: process, timeout: 120)
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertTrue(wrote, "run \(delay): no checkpoint within 120 s")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: latest.path).filter { $0.hasSuffix(".ckpt") }
        XCTAssertFalse(names.isEmpty, "no checkpoint was written before the kills")
        for name in names {
            let python = try PyTorchBaseline.shared.run("""
            ck = torch.load(\(pythonString(latest.appendingPathComponent(name).path)), weights_only=True)
            O['step'] = torch.tensor(ck['global_step'])
            """)
            XCTAssertGreaterThan(try python["step"]?.item(Int.self) ?? 0, 0, name)
        }
    }

    /// Polls until `folder` holds a `.ckpt` modified after `date`; false when `process` ends first
    /// or the time runs out.
    public static func waitForCheckpoint(in folder: URL, newerThan date: Date, while process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.isRunning {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            let fresh = names.filter { $0.hasSuffix(".ckpt") }.contains { name in
                let attributes = try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)
                return (attributes?[.modificationDate] as? Date).map { $0 > date } ?? false
            }
            if fresh { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// A kill while saving leaves `.NAME.tmp-PID` behind; the next run in that folder removes
    /// it with one warning line, and keeps the temporary of a writer that is still alive.
    func testStartingARunRemovesTemporariesOfKilledWrites() throws {
        let folder = directory.appendingPathComponent("stale")
        let latest = folder.appendingPathComponent("checkpoints/latest")
        try FileManager.default.createDirectory(at: latest, withIntermediateDirectories: true)
        let stale = latest.appendingPathComponent(".latest-epoch=0-step=3.ckpt.tmp-\(try deadProcessID())")
        let live = latest.appendingPathComponent(".latest-epoch=0-step=3.ckpt.tmp-\(getpid())")
        for url in [stale, live] { try Data("partial".utf8).write(to: url) }
        var lines: [String] = []
        let composition = try ConfigComposer.locate().composition(overrides: overrides())
        _ = try TrainingJob(composition: composition, runDirectory: folder, log: { lines.append($0) })
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path))
        let warnings = lines.filter { $0.hasPrefix("warning:") }
        XCTAssertEqual(warnings.count, 1, "\(lines)")
        XCTAssertTrue(warnings.first?.contains(stale.path) ?? false, "\(warnings)")
    }

    /// Upstream reads the validation size from dataset.loader, not experiment.evaluation
    /// (null: the whole validation split); split_ratio is the training share of the episodes.
    func testDatasetLoaderKeysAreHonoured() throws {
        let sized = try job("sized", ["dataset.loader.validation_size=3", "experiment.evaluation.validation_size=5"])
        XCTAssertEqual(sized.trainer.settings.validationSize, 3)
        XCTAssertEqual((sized.validation as? TrajectoryDataset)?.episodes, [5])  // 6 episodes, split_ratio 0.9
        let whole = try job("whole", ["dataset.loader.validation_size=null", "dataset.loader.split_ratio=0.5"])
        XCTAssertNil(whole.trainer.settings.validationSize)
        XCTAssertEqual((whole.validation as? TrajectoryDataset)?.episodes, [3, 4, 5])
    }

    func testUnknownDatasetOrCodecNamesTheMissingPiece() throws {
        let composer = try ConfigComposer.locate()
        let config = try composer.compose(overrides: ["experiment=quickstart", "latent_codec=sd_vae"])
        XCTAssertThrowsError(try RunConfiguration(config).codec()) { error in
            XCTAssertTrue("\(error)".contains("sd_vae"), "\(error)")
        }
        let other = try composer.compose(overrides: ["experiment=quickstart", "dataset=dino_wm/pusht"])
        XCTAssertThrowsError(try RunConfiguration(other).datasets()) { error in
            XCTAssertTrue("\(error)".contains("pusht"), "\(error)")
        }
    }
}
