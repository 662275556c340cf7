import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore

/// Randomness on the run's device (#24): validation draws with a generator made on the model's
/// device (checked on `meta`, which stands in for CUDA: SwiftTorch refuses a generator of
/// another device for any draw, as libtorch does for CUDA); validation and evaluation during
/// training put back every default generator; checkpoints keep one generator state per device
/// (`nanowm.rng_states`, format 2), which PyTorch reads with `weights_only=True`, and older or
/// GPU checkpoints still resume on the CPU bit for bit.
final class GeneratorDeviceTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var directory: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("generator-device-tests") }
    override func tearDown() { scratch.remove() }

    private func job(_ name: String, device: Device = .cpu, _ extra: [String] = [],
                     log: @escaping (String) -> Void = { _ in }) throws -> TrainingJob {
        let overrides = TinyTraining.overrides(dataDirectory: directory.appendingPathComponent("data"), extra)
        let composition = try ConfigComposer.locate().composition(overrides: overrides)
        return try TrainingJob(composition: composition, runDirectory: directory.appendingPathComponent(name), device: device, log: log)
    }

    /// The validation path on `meta` (the model, its inputs and the loss there): its timestep and
    /// noise draws take the validation generator, which must be made on the model's device. A
    /// generator made without the device is a CPU one, which the draws on `meta` refuse, so
    /// this test fails when the device is dropped (as `nanowm train --device cuda` did).
    func testValidationDrawsWithAGeneratorOnTheModelsDevice() throws {
        XCTAssertEqual(try TrainingSettings().validationGenerator(device: .meta).device, .meta)
        // Flow matching: the Gaussian processes read their tables with index_select, which has
        // no meta kernel in libtorch; the draws come first either way.
        let run = try job("meta", device: .meta, ["experiment.evaluation.metrics.evaluate=false", "experiment.diffusion.pred_name=flow"])
        // The model's patch convolution has no meta kernel: a stand-in returns its input.
        var modelInputs: Set<Device> = []
        run.trainer.modelStandIn = { x, t, action in
            modelInputs.formUnion([x.device, t.device] + (action.map { [$0.device] } ?? []))
            return x
        }
        var devices: [Device] = []
        try run.trainer.validationBatchLosses { devices.append($0.device) }
        XCTAssertFalse(devices.isEmpty)
        XCTAssertEqual(Set(devices), [.meta])
        XCTAssertEqual(modelInputs, [.meta])
    }

    /// Validation and evaluation during training (which reseeds every device's generator, as
    /// the evaluate task does, and samples) leave every default generator as it was.
    func testValidationAndEvaluationPutEveryGeneratorBack() throws {
        let run = try job("restore", ["experiment.evaluation.metrics.log_every_n_train_steps=3"])
        XCTAssertTrue(run.trainer.callbacks.contains { $0 is TrainingEvaluation })
        try manualSeed(77)
        _ = try Tensor.rand([3])
        let before = try GeneratorStates.capture()
        XCTAssertEqual(before.states.map(\.device), GeneratorStates.devices)
        XCTAssertNotNil(try run.trainer.validationLoss())
        var evaluated: [String: Double] = [:]
        for callback in run.trainer.callbacks { evaluated.merge(try callback.validated(at: 3)) { $1 } }
        XCTAssertNotNil(evaluated["val_eval/psnr"], "\(evaluated.keys.sorted())")
        let after = try GeneratorStates.capture()
        for ((device, a), (_, b)) in zip(before.states, after.states) {
            XCTAssertTrue(try a.bytes() == b.bytes(), "\(device)'s generator state changed")
        }
    }

    /// A checkpoint of a CPU run: `rng_states` with the CPU entry (the state at the save) beside
    /// format 1's `rng_state`, format 2, all read by `torch.load(..., weights_only=True)`.
    func testCheckpointKeepsAGeneratorStatePerDeviceThatPyTorchReads() throws {
        let run = try job("format", ["experiment.training.max_steps=3"])
        try run.trainer.fit(showProgress: false)
        let state = try Generator.defaultCPU.state()
        let checkpoint = try XCTUnwrap(run.run.latestCheckpoint)
        let python = try PyTorchBaseline.shared.run("""
        ck = torch.load(\(pythonString(checkpoint.path)), map_location='cpu', weights_only=True)
        record = ck['nanowm']
        assert record['format'] == 2, record['format']
        assert list(record['rng_states']) == ['cpu'], list(record['rng_states'])
        assert torch.equal(record['rng_states']['cpu'], record['rng_state'])
        assert torch.equal(record['rng_state'], I['state'])
        # The CPU state is torch's own: it seeds a torch generator.
        g = torch.Generator(); g.set_state(record['rng_states']['cpu'])
        O['draw'] = torch.rand(4, generator=g)
        """, inputs: ["state": state])
        try assertExactlyEqual(try Tensor.rand([4]), python["draw"], "the next draw after the checkpoint")
    }

    /// Resuming on the CPU from a format-1 checkpoint (CPU state only) and from a GPU run's
    /// checkpoint (a `cuda:0` state too, skipped with a note) continues bit for bit.
    func testOlderAndGPUCheckpointsResumeOnTheCPU() throws {
        let straight = try job("straight")
        try straight.trainer.fit(showProgress: false)
        let first = try job("first", ["experiment.training.max_steps=3"])
        try first.trainer.fit(showProgress: false)
        let checkpoint = try XCTUnwrap(first.run.latestCheckpoint)
        let formatOne = directory.appendingPathComponent("format1.ckpt"), fromGPU = directory.appendingPathComponent("gpu.ckpt")
        _ = try PyTorchBaseline.shared.run("""
        import copy
        ck = torch.load(\(pythonString(checkpoint.path)), map_location='cpu', weights_only=True)
        old = copy.deepcopy(ck)
        del old['nanowm']['rng_states']
        old['nanowm']['format'] = 1
        torch.save(old, \(pythonString(formatOne.path)))
        ck['nanowm']['rng_states']['cuda:0'] = torch.arange(16, dtype=torch.uint8)
        torch.save(ck, \(pythonString(fromGPU.path)))
        O['done'] = torch.tensor(1)
        """)
        for (name, path, note) in [("format1", formatOne, nil), ("gpu", fromGPU, "cuda:0")] {
            try manualSeed(999)
            var lines: [String] = []
            let resumed = try job("resumed-\(name)", ["experiment.resume_from_checkpoint=\(path.path)"], log: { lines.append($0) })
            XCTAssertEqual(resumed.trainer.step, 3, name)
            let notes = lines.filter { $0.hasPrefix("resumed: note:") }
            if let note {
                XCTAssertEqual(notes.count, 1, "\(name): \(lines)")
                XCTAssertTrue(notes.first?.contains("the generator states of \(note) in the checkpoint are not restored") ?? false, "\(notes)")
            } else {
                XCTAssertEqual(notes, [], name)
            }
            try resumed.trainer.fit(showProgress: false)
            for ((key, a), (_, b)) in zip(straight.trainer.model.stateDict(), resumed.trainer.model.stateDict()) {
                try assertExactlyEqual(b, a, "\(name): \(key)")
            }
        }
    }

    /// A checkpoint entry that is not a device name is refused in one line naming the file.
    func testAMalformedGeneratorRecordIsRefused() throws {
        let first = try job("first", ["experiment.training.max_steps=3"])
        try first.trainer.fit(showProgress: false)
        let checkpoint = try XCTUnwrap(first.run.latestCheckpoint)
        let bad = directory.appendingPathComponent("bad.ckpt")
        _ = try PyTorchBaseline.shared.run("""
        ck = torch.load(\(pythonString(checkpoint.path)), map_location='cpu', weights_only=True)
        ck['nanowm']['rng_states']['tpu'] = torch.zeros(4, dtype=torch.uint8)
        torch.save(ck, \(pythonString(bad.path)))
        O['done'] = torch.tensor(1)
        """)
        XCTAssertThrowsError(try job("bad", ["experiment.resume_from_checkpoint=\(bad.path)"])) { error in
            XCTAssertEqual("\(error)", "\(bad.path): nanowm.rng_states holds an entry that is not a device name (cpu, cuda:N) with a generator state tensor")
        }
    }
}
