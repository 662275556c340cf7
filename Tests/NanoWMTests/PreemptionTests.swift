import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore

/// What a cluster does to a run: stop signals, a second run into the same folder, a loss
/// that blows up. The run never loses its last good checkpoint and never reports success
/// for a run that did not finish.
final class PreemptionTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var directory: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("preemption-tests") }
    override func tearDown() { scratch.remove() }

    /// Long enough that a signal sent once the first checkpoint exists lands mid-run on any
    /// machine; a checkpoint every 5 steps.
    private let steps = 120

    private func arguments(_ folder: URL, _ extra: [String] = []) -> [String] {
        ["train", "--run-dir", folder.path] + TinyTraining.overrides(dataDirectory: directory.appendingPathComponent("data"), [
            "experiment.training.max_steps=\(steps)", "experiment.training.log_every=50", "experiment.training.val_every_n_steps=100",
            "experiment.training.checkpointing.latest.every_n_train_steps=5",
            "experiment.training.checkpointing.across_timesteps.every_n_train_steps=1000"] + extra)
    }

    /// A `train` process into `folder`, started, with its output discarded.
    private func start(_ folder: URL, error: FileHandle? = FileHandle.nullDevice) throws -> Process {
        let process = Process()
        process.executableURL = NanoWMExecutable.url
        process.arguments = arguments(folder)
        process.currentDirectoryURL = PyTorchBaseline.repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        process.standardError = error
        try process.run()
        return process
    }

    /// Starts a run and returns it once it has written its first checkpoint.
    private func startUnderWay(_ folder: URL) throws -> Process {
        let started = Date()
        let process = try start(folder)
        XCTAssertTrue(TrainingTests.waitForCheckpoint(in: folder.appendingPathComponent("checkpoints/latest"), newerThan: started,
                                                      while: process, timeout: 120), "no checkpoint within 120 s")
        return process
    }

    private func weights(_ folder: URL) throws -> [String: Tensor] {
        let checkpoint = try XCTUnwrap(try RunDirectory(folder, create: false).latestCheckpoint, "no checkpoint in \(folder.path)")
        return try UpstreamWeights.modelTensors(in: try Checkpoint.open(checkpoint.path)).mapValues { try $0.load() }
    }

    /// SIGTERM (a scheduler's preemption), SIGUSR1 (SLURM's warning ahead of the kill) and
    /// SIGINT (Ctrl-C) each save a checkpoint at a step boundary and exit with 128 + the
    /// signal; the same command then continues the run from its folder to the very weights of
    /// a run that was never stopped.
    func testStopSignalsSaveExitNonZeroAndTheSameCommandResumesExactly() throws {
        let straight = directory.appendingPathComponent("straight")
        let uninterrupted = try NanoWMExecutable.run(arguments(straight))
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.error)
        let expected = try weights(straight)
        XCTAssertEqual(expected.count, try NanoWMModel(try RunConfiguration(try ConfigComposer.locate().compose(
            overrides: TinyTraining.overrides(dataDirectory: directory))).model).stateDict().count)

        for (signal, status) in [(SIGTERM, Int32(143)), (SIGUSR1, 138), (SIGINT, 130)] {
            let name = StopSignalWatch.name(signal)
            let folder = directory.appendingPathComponent(name)
            let process = try startUnderWay(folder)
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .exit, name)
            XCTAssertEqual(process.terminationStatus, status, name)
            let saved = try XCTUnwrap(try RunDirectory(folder, create: false).latestCheckpoint, name)
            let stoppedAt = RunDirectory.step(of: saved.lastPathComponent)
            XCTAssertTrue(stoppedAt > 0 && stoppedAt < steps, "\(name): stopped at step \(stoppedAt) of \(steps)")

            let again = try NanoWMExecutable.run(arguments(folder))
            XCTAssertEqual(again.status, 0, again.error)
            XCTAssertTrue(again.output.contains("resumed: \(saved.path) at step \(stoppedAt)"), again.output)
            let resumed = try weights(folder)
            XCTAssertEqual(Set(resumed.keys), Set(expected.keys))
            for (key, value) in expected { try assertExactlyEqual(try XCTUnwrap(resumed[key]), value, "\(name): \(key)") }
        }
    }

    /// A second run into a folder a live run holds stops in one line naming the holder's pid
    /// and writes nothing; once the holder is killed, the next run takes the folder over and
    /// continues from its newest checkpoint.
    func testOneRunPerFolderAndADeadHoldersLockIsTakenOver() throws {
        let folder = directory.appendingPathComponent("shared")
        let holder = try startUnderWay(folder)
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        let config = try String(contentsOf: folder.appendingPathComponent("config.yaml"), encoding: .utf8)
        let second = try NanoWMExecutable.run(arguments(folder, ["experiment.infra.seed=7"]))
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.error.contains("in use by another run (pid \(holder.processIdentifier))"), second.error)
        XCTAssertEqual(second.error.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, second.error)
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("config.yaml"), encoding: .utf8), config,
                       "the refused run must not touch the folder")

        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let saved = try XCTUnwrap(try RunDirectory(folder, create: false).latestCheckpoint)
        let third = try NanoWMExecutable.run(arguments(folder, ["experiment.training.max_steps=20"]))
        XCTAssertEqual(third.status, 0, third.error)
        XCTAssertTrue(third.output.contains("resumed: \(saved.path)"), third.output)
    }

    /// A loss that blows up (a learning rate of 1e30) stops the run at the first non-finite
    /// step, naming it, with the last checkpoint finite; with skip_nonfinite_steps the run
    /// goes on, leaves the weights at their last finite values, and finishes.
    func testNonFiniteStepStopsTheRunAndKeepsTheLastGoodCheckpoint() throws {
        let overrides = TinyTraining.overrides(dataDirectory: directory.appendingPathComponent("data"), [
            "experiment.training.optimizer.lr=1e30", "experiment.training.optimizer.lr_warmup_steps=0",
            "experiment.training.apply_gradient_clip=false", "experiment.training.max_steps=8",
            "experiment.training.checkpointing.latest.every_n_train_steps=1"])
        let stopped = try TrainingJob(composition: try ConfigComposer.locate().composition(overrides: overrides),
                                      runDirectory: directory.appendingPathComponent("stops"), log: { _ in })
        var losses: [Double] = []
        stopped.trainer.callbacks.append(StepCallback(afterStep: { _, metrics in losses.append(metrics.loss) }))
        let error = assertOneLineError({ try stopped.trainer.fit(showProgress: false) }, mentions: ["the loss is", "skip_nonfinite_steps"])
        XCTAssertTrue("\(error.map { "\($0)" } ?? "")".hasPrefix("step \(losses.count + 1): "), "\(String(describing: error))")
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        let last = try XCTUnwrap(stopped.run.latestCheckpoint)
        XCTAssertEqual(RunDirectory.step(of: last.lastPathComponent), losses.count)
        for (key, value) in try weights(stopped.run.url) {
            XCTAssertTrue(try value.isfinite().all().item(Bool.self), "checkpoint \(key) is not finite")
        }
        let finite = stopped.trainer.model.stateDict()

        let skipping = try TrainingJob(composition: try ConfigComposer.locate().composition(overrides: overrides + ["experiment.training.skip_nonfinite_steps=true"]),
                                       runDirectory: directory.appendingPathComponent("skips"), log: { _ in })
        try skipping.trainer.fit(showProgress: false)
        XCTAssertEqual(skipping.trainer.step, 8)
        for ((key, a), (_, b)) in zip(skipping.trainer.model.stateDict(), finite) { try assertExactlyEqual(a, b, "skipped steps leave \(key) as it was") }
    }
}
