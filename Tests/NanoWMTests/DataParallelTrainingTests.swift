import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore

/// Data-parallel training with real worker processes on loopback (Gloo): N processes × batch
/// b reproduce 1 process × batch N·b, rank 0 alone writes, a 2-process checkpoint resumes in
/// one process, a killed worker stops the run with a line naming it, and torchrun launches
/// the same binary.
final class DataParallelTrainingTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var directory: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("data-parallel-tests") }
    override func tearDown() { scratch.remove() }

    /// TinyTraining without validation (it does not change training, and takes time), with
    /// v-prediction: with x-prediction the untrained model's zero output makes the first loss
    /// independent of the noise, which would leave the noise draws untested at step 1.
    private func overrides(_ extra: [String] = []) -> [String] {
        TinyTraining.overrides(dataDirectory: directory.appendingPathComponent("data"),
                               ["experiment.training.val_every_n_steps=1000", "experiment.diffusion.pred_name=v"] + extra)
    }

    /// Trains in this process; returns the job and the metrics of each step.
    private func train(_ name: String, _ extra: [String], until last: Int? = nil) throws -> (TrainingJob, [Int: Trainer.StepMetrics]) {
        let composition = try ConfigComposer.locate().composition(overrides: overrides(extra))
        let job = try TrainingJob(composition: composition, runDirectory: directory.appendingPathComponent(name), log: { _ in })
        var metrics: [Int: Trainer.StepMetrics] = [:]
        job.trainer.callbacks.append(StepCallback(afterStep: { metrics[$0] = $1 }))
        try job.trainer.fit(until: last, showProgress: false)
        return (job, metrics)
    }

    /// Per-step `train_loss` and `gradient_norm` a run logged to TensorBoard (read by TensorBoard).
    private func loggedScalars(_ run: URL) throws -> (loss: [Double], norm: [Double]) {
        let python = try PyTorchBaseline.shared.run("""
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(\(pythonString(run.appendingPathComponent("tensorboard").path)))
        acc.Reload()
        O['loss'] = torch.tensor([e.value for e in acc.Scalars('train_loss')], dtype=torch.float64)
        O['norm'] = torch.tensor([e.value for e in acc.Scalars('gradient_norm')], dtype=torch.float64)
        O['steps'] = torch.tensor([e.step for e in acc.Scalars('train_loss')])
        """)
        XCTAssertEqual(try XCTUnwrap(python["steps"]).toArray(Int64.self), [1, 2, 3])
        return (try XCTUnwrap(python["loss"]).toArray(Double.self), try XCTUnwrap(python["norm"]).toArray(Double.self))
    }

    private func checkpointNames(_ run: URL, _ kind: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints/\(kind)").path).sorted()
    }

    /// `nanowm train --nproc-per-node 2` with batch_size=1 against one process with
    /// batch_size=2, for 3 steps; then the 2-process checkpoint resumes in one process.
    ///
    /// Tolerances. Step 1: both start from the same seeded weights, train on the same two clips
    /// with the same timesteps and noise, so loss and (averaged) gradient norm differ only in
    /// how float32 sums are split: the mean over the batch (two halves averaged vs one
    /// cascade sum) and the gradient's batch reduction (two partial sums added by the
    /// allreduce). Cascade summation errs by about u·log2(n) relative (u = 6e-8, n ≤ 5e3
    /// terms): ~1e-6; we allow 1e-5. Later steps start from weights that already differ by
    /// that rounding, passed through AdamW (whose normalised update turns a relative gradient
    /// difference into the same relative update difference); we allow 1e-4. The negative
    /// control shows these bounds discriminate: a run on half the batch misses step 1's
    /// loss by orders of magnitude more.
    /// A process's GPU: `cuda:LOCAL_RANK` among the node's GPUs, `cuda:0` when the launcher
    /// bound it one (`srun --gpus-per-task=1`); more processes than GPUs are left to
    /// `Device.ensureAvailable`, which refuses them with the count.
    func testEachProcessTakesItsOwnGPU() throws {
        XCTAssertEqual(DataParallelWorker.cudaDevice(localRank: 3, visible: 8), .cuda(3))
        XCTAssertEqual(DataParallelWorker.cudaDevice(localRank: 0, visible: 8), .cuda(0))
        XCTAssertEqual(DataParallelWorker.cudaDevice(localRank: 5, visible: 1), .cuda(0))
        XCTAssertEqual(DataParallelWorker.cudaDevice(localRank: 2, visible: 2), .cuda(2))
        XCTAssertEqual(DataParallelWorker.cudaDevice(localRank: 1, visible: 0), .cuda(1))
    }

    func testTwoProcessesReproduceOneWithTwiceTheBatchAndResumeInOne() throws {
        let two = directory.appendingPathComponent("two")
        let launched = try NanoWMExecutable.run(["train", "--nproc-per-node", "2", "--run-dir", two.path, "--dist-timeout", "120"]
                                                + overrides(["experiment.training.batch_size=1", "experiment.training.max_steps=3"]))
        XCTAssertEqual(launched.status, 0, launched.error)
        XCTAssertTrue(launched.output.contains("data-parallel: 2 processes (gloo), a global batch of 2 × 1 clips"), launched.output)
        // Rank 0 alone wrote: one latest checkpoint, one periodic one, no temporaries; one progress report.
        XCTAssertEqual(try checkpointNames(two, "latest"), ["latest-epoch=0-step=3.ckpt"])
        XCTAssertEqual(try checkpointNames(two, "across_timesteps"), ["epoch=0-step=3.ckpt"])
        XCTAssertEqual(launched.output.split(separator: "\n").filter { $0.hasPrefix("run folder: ") }.count, 1, launched.output)
        let logged = try loggedScalars(two)
        // Each rank keeps its own text log: rank 0 the run's lines, rank 1 its own losses.
        let rankLog = try String(contentsOf: two.appendingPathComponent("train_rank1.log"), encoding: .utf8)
        XCTAssertTrue(rankLog.contains("step 3: train_loss "), rankLog)
        // Lines a rank logs after its text log opens reach it too ("data: " comes right after).
        XCTAssertTrue(rankLog.contains("data: ") && rankLog.contains(" validation clips of "), rankLog)
        let mainLog = try String(contentsOf: two.appendingPathComponent("train.log"), encoding: .utf8)
        XCTAssertTrue(mainLog.contains("run folder: ") && mainLog.contains("step 3: train_loss "), mainLog)

        let (one, reference) = try train("one", ["experiment.training.batch_size=2"])
        var worst = (step1: 0.0, later: 0.0)
        for step in 1...3 {
            let expected = try XCTUnwrap(reference[step])
            let tolerance = step == 1 ? 1e-5 : 1e-4
            assertRelativelyClose(logged.loss[step - 1], expected.loss, tolerance, "train_loss at step \(step)")
            assertRelativelyClose(logged.norm[step - 1], expected.gradientNorm, tolerance, "gradient_norm at step \(step)")
            let relative = max(abs(logged.loss[step - 1] - expected.loss) / expected.loss,
                               abs(logged.norm[step - 1] - expected.gradientNorm) / expected.gradientNorm)
            if step == 1 { worst.step1 = relative } else { worst.later = max(worst.later, relative) }
        }
        print("2 × 1 vs 1 × 2: max relative difference \(worst.step1) at step 1, \(worst.later) at steps 2–3")

        // Negative control: one process on half the global batch (what a rank alone sees, or
        // what both ranks would see if they took the same block) misses the averaged gradient.
        let (_, half) = try train("half", ["experiment.training.batch_size=1"], until: 1)
        let control = abs(try XCTUnwrap(half[1]).gradientNorm - reference[1]!.gradientNorm) / reference[1]!.gradientNorm
        XCTAssertGreaterThan(control, 1e-2, "a different batch must miss by far more than the tolerance")

        // The 2-process checkpoint resumes in one process (batch 2): steps 4–6 follow the
        // straight one-process run, because the random stream is the same whatever the world size.
        let checkpoint = two.appendingPathComponent("checkpoints/latest/latest-epoch=0-step=3.ckpt")
        let (resumed, continued) = try train("resumed", ["experiment.training.batch_size=2",
                                                         "experiment.resume_from_checkpoint=\(checkpoint.path)"])
        XCTAssertEqual(resumed.trainer.step, 6)
        var resumedWorst = 0.0
        for step in 4...6 {
            let (ours, expected) = (try XCTUnwrap(continued[step]).loss, try XCTUnwrap(reference[step]).loss)
            assertRelativelyClose(ours, expected, 1e-4, "resumed loss at step \(step)")
            resumedWorst = max(resumedWorst, abs(ours - expected) / expected)
        }
        print("resumed in one process: max relative loss difference \(resumedWorst) at steps 4–6")
    }

    /// In SD-VAE latents, with validation (rank 0 alone, and the VAE's posterior draw in it)
    /// at every step: 2 processes × 1 clip follow 1 process × 2 clips, because each rank's
    /// posterior noise is its rows of the global batch's draw and validation leaves the global
    /// generator as it found it. Tolerances as in the pixel test above (the encoder adds its
    /// float32 rounding on batches of 3 frames instead of 6, far below them).
    func testSDVAELatentsDoNotDependOnTheWorldSize() throws {
        let vae = try CodecTests.models.get().path("vae.pt")
        let latent = ["latent_codec=sd_vae", "latent_codec.torchscript=\(vae)", "model.latent_channels=4", "model.latent_size=8",
                      "model.patch_size=2", "experiment.training.max_steps=3", "experiment.training.val_every_n_steps=1",
                      "experiment.evaluation.metrics.evaluate=false"]
        let two = directory.appendingPathComponent("two-vae")
        let launched = try NanoWMExecutable.run(["train", "--nproc-per-node", "2", "--run-dir", two.path, "--dist-timeout", "120"]
                                                + overrides(latent + ["experiment.training.batch_size=1"]))
        XCTAssertEqual(launched.status, 0, launched.error)
        let logged = try loggedScalars(two)
        let (_, reference) = try train("one-vae", latent + ["experiment.training.batch_size=2"])
        for step in 1...3 {
            let expected = try XCTUnwrap(reference[step])
            let tolerance = step == 1 ? 1e-5 : 1e-4
            assertRelativelyClose(logged.loss[step - 1], expected.loss, tolerance, "train_loss at step \(step)")
            assertRelativelyClose(logged.norm[step - 1], expected.gradientNorm, tolerance, "gradient_norm at step \(step)")
        }
    }

    /// SIGKILL to rank 1 in the middle of training: rank 0 stops with a line naming rank 1,
    /// the launcher ends the run naming it too, well within the timeout, and the last complete
    /// checkpoint still loads.
    func testKilledWorkerStopsTheRunNamingIt() throws {
        let run = directory.appendingPathComponent("killed")
        let timeout = 30.0
        var result: NanoWMExecutable.Result?
        let lock = NSLock()
        let runner = Thread {
            let outcome = try? NanoWMExecutable.run(["train", "--nproc-per-node", "2", "--run-dir", run.path,
                                                     "--dist-timeout", "\(Int(timeout))"]
                                                    + self.overrides(["experiment.training.batch_size=1", "experiment.training.max_steps=100000"]))
            lock.lock(); result = outcome; lock.unlock()
        }
        runner.start()
        func finished() -> NanoWMExecutable.Result? { lock.lock(); defer { lock.unlock() }; return result }

        // Wait for a first checkpoint: training is under way.
        let latest = run.appendingPathComponent("checkpoints/latest")
        let started = Date()
        while ((try? FileManager.default.contentsOfDirectory(atPath: latest.path)) ?? []).filter({ $0.hasSuffix(".ckpt") }).isEmpty {
            XCTAssertNil(finished().map { "\($0.status) \($0.error)" }, "the run ended before training")
            if finished() != nil { return }
            XCTAssertLessThan(Date().timeIntervalSince(started), 300, "no checkpoint appeared")
            usleep(100_000)
        }
        let victim = try XCTUnwrap(Self.worker(rank: 1, arguments: run.path), "rank 1's process")
        kill(victim, SIGKILL)
        let killed = Date()
        while finished() == nil {
            if Date().timeIntervalSince(killed) > timeout + 60 {
                XCTFail("the run did not stop after its worker was killed")
                return
            }
            usleep(50_000)
        }
        let outcome = try XCTUnwrap(finished())
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.error.contains("worker rank 1 (pid \(victim)) was killed by signal 9"), outcome.error)
        let rankZeroLine = outcome.error.split(separator: "\n").first { $0.contains("rank 0: ") }
        XCTAssertTrue(rankZeroLine?.contains("rank 1 (pid \(victim)) has exited") ?? false, outcome.error)
        XCTAssertLessThan(Date().timeIntervalSince(killed), timeout + 20)
        let survivor = try XCTUnwrap(RunDirectory(run, create: false).latestCheckpoint)
        XCTAssertNotNil(try Checkpoint.open(survivor.path).root["global_step"]?.int)
    }

    /// `torchrun --no-python --standalone --nproc-per-node 2 nanowm run …` (the project venv has
    /// torchrun), training then evaluating what it trained with the clips split across both
    /// workers: rank 0 alone reports and writes metrics.json.
    func testRunsUnderTorchrun() throws {
        let run = directory.appendingPathComponent("torchrun")
        let launched = try launchTogether([(try Self.torchrun(), ["--standalone", "--nproc-per-node", "2", "--no-python", NanoWMExecutable.url.path, "run",
                                                                  "--run-dir", run.path, "--dist-timeout", "120"]
            + overrides(["experiment.training.batch_size=1", "experiment.training.max_steps=2", "experiment.tasks=[training,evaluate]"]), [:])])
        let text = launched[0].output
        XCTAssertEqual(launched[0].status, 0, text)
        XCTAssertTrue(text.contains("data-parallel: 2 processes (gloo)"), text)
        XCTAssertEqual(try checkpointNames(run, "latest"), ["latest-epoch=0-step=2.ckpt"])
        XCTAssertTrue(text.contains("across 2 processes"), text)
        XCTAssertEqual(text.components(separatedBy: "metrics: ").count, 2, "one report, from rank 0: \(text)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("metrics.json").path))
    }

    /// Two tasks as `srun --ntasks 2` starts them: only SLURM's variables (and MASTER_PORT,
    /// which srun users set; its derivation from SLURM_JOB_ID is tested in ProcessGroupTests),
    /// no torchrun contract. They form the group, train, and rank 0 alone writes.
    func testRunsUnderSrunsEnvironment() throws {
        let run = directory.appendingPathComponent("srun")
        let port = try LocalLauncher.freePort()
        let texts = try launchTogether((0..<2).map { rank in
            (NanoWMExecutable.url, ["train", "--run-dir", run.path, "--dist-timeout", "120"]
                + overrides(["experiment.training.batch_size=1", "experiment.training.max_steps=2"]),
             Self.srunTask(rank: rank, of: 2, nodes: 1, port: port))
        }).enumerated().map { rank, task in
            XCTAssertEqual(task.status, 0, "rank \(rank): \(task.output)")
            return task.output
        }
        XCTAssertTrue(texts[0].contains("data-parallel: 2 processes (gloo)"), texts[0])
        XCTAssertFalse(texts[1].contains("run folder: "), "rank 1 reports nothing: \(texts[1])")
        XCTAssertEqual(try checkpointNames(run, "latest"), ["latest-epoch=0-step=2.ckpt"])
    }

    // MARK: - Several nodes, emulated on this machine

    /// The multi-node runs and their baseline: 2 ranks × 1 clip, 3 steps. Every process runs
    /// one thread (OMP_NUM_THREADS=1), so the thread count, which a node of one process would
    /// otherwise set to all the cores and a node of two to half, cannot change a float sum.
    private var twoRanks: [String] { overrides(["experiment.training.batch_size=1", "experiment.training.max_steps=3"]) }
    private static let oneThread = ["OMP_NUM_THREADS": "1"]

    /// The baseline: one node with two processes, `nanowm train --nproc-per-node 2`.
    private func oneNodeWithTwoProcesses() throws -> URL {
        let run = directory.appendingPathComponent("one-node")
        let launched = try NanoWMExecutable.run(["train", "--nproc-per-node", "2", "--run-dir", run.path, "--dist-timeout", "120"] + twoRanks,
                                                environment: Self.oneThread)
        XCTAssertEqual(launched.status, 0, launched.error)
        return run
    }

    /// Two nodes of one process each, as multi-node users start them: a torchrun launcher per
    /// node (`--nnodes 2 --node-rank 0|1`, static rendezvous at node 0's address), so both
    /// workers have LOCAL_RANK 0 and LOCAL_WORLD_SIZE 1, and only RANK tells them apart. They
    /// train as one node with two processes does, bit for bit.
    func testTwoNodesUnderTorchrunTrainAsOneNodeWithTwoProcesses() throws {
        let torchrun = try Self.torchrun()
        let reference = try oneNodeWithTwoProcesses()
        let run = directory.appendingPathComponent("two-nodes-torchrun")
        let port = try LocalLauncher.freePort()
        let nodes = try launchTogether((0..<2).map { node in
            (torchrun, ["--nnodes", "2", "--nproc-per-node", "1", "--node-rank", "\(node)", "--master-addr", "127.0.0.1",
                        "--master-port", "\(port)", "--no-python", NanoWMExecutable.url.path,
                        "train", "--run-dir", run.path, "--dist-timeout", "120"] + twoRanks, Self.oneThread)
        })
        for (node, launched) in nodes.enumerated() { XCTAssertEqual(launched.status, 0, "node \(node): \(launched.output)") }
        XCTAssertTrue(nodes[0].output.contains("data-parallel: 2 processes (gloo)"), nodes[0].output)
        XCTAssertFalse(nodes[1].output.contains("run folder: "), "rank 1 reports nothing: \(nodes[1].output)")
        try assertSameTraining(run, as: reference)
    }

    /// Two nodes under SLURM, as `srun --nodes 2 --ntasks-per-node 1` starts the tasks: only
    /// SLURM's variables, each task SLURM_LOCALID 0 on a node of its own, rank 0's host the
    /// first of the node list. Equal to one node with two processes, bit for bit.
    func testTwoNodesUnderSrunTrainAsOneNodeWithTwoProcesses() throws {
        let reference = try oneNodeWithTwoProcesses()
        let run = directory.appendingPathComponent("two-nodes-srun")
        let port = try LocalLauncher.freePort()
        let tasks = try launchTogether((0..<2).map { rank in
            (NanoWMExecutable.url, ["train", "--run-dir", run.path, "--dist-timeout", "120"] + twoRanks,
             Self.srunTask(rank: rank, of: 2, nodes: 2, port: port).merging(Self.oneThread) { $1 })
        })
        for (rank, task) in tasks.enumerated() { XCTAssertEqual(task.status, 0, "rank \(rank): \(task.output)") }
        XCTAssertTrue(tasks[0].output.contains("data-parallel: 2 processes (gloo)"), tasks[0].output)
        XCTAssertEqual(tasks[1].output, "", "rank 1 reports nothing")
        try assertSameTraining(run, as: reference)
    }

    /// Nodes whose run folder is not shared (emulated: rank 1 given a path that rank 0 never
    /// makes, as a node-local disk would leave it): rank 1 stops with one line saying that the
    /// run folder must be shared, and rank 0 stops naming rank 1; rank 1 writes nothing.
    func testNodesThatDoNotShareTheRunFolderStopWithOneLine() throws {
        let port = try LocalLauncher.freePort()
        let folders = [directory.appendingPathComponent("node0/run"), directory.appendingPathComponent("node1/run")]
        let tasks = try launchTogether((0..<2).map { rank in
            (NanoWMExecutable.url, ["train", "--run-dir", folders[rank].path, "--dist-timeout", "60"] + twoRanks,
             Self.srunTask(rank: rank, of: 2, nodes: 2, port: port))
        })
        XCTAssertNotEqual(tasks[1].status, 0)
        XCTAssertEqual(tasks[1].output.split(separator: "\n").count, 1, tasks[1].output)
        XCTAssertTrue(tasks[1].output.contains("rank 1 on ") && tasks[1].output.contains("the run folder \(folders[1].path) that rank 0 made is not here"),
                      tasks[1].output)
        XCTAssertNotEqual(tasks[0].status, 0)
        XCTAssertTrue(tasks[0].output.contains("rank 1 (pid "), tasks[0].output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folders[1].path), "rank 1 wrote into its folder")
    }

    /// `run` trained exactly as `reference` did, as two ranks (not two runs of one): the same
    /// checkpoint (weights, AdamW moments, step, schedule, random state, bit for bit), the same
    /// logged losses and gradient norms, the same files (one writer: one TensorBoard file, rank
    /// 1's text log beside rank 0's, named by its global rank), and a log that says two processes.
    private func assertSameTraining(_ run: URL, as reference: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        func listing(_ folder: URL) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        }
        XCTAssertEqual(try listing(run), try listing(reference), file: file, line: line)
        XCTAssertEqual(try listing(run.appendingPathComponent("tensorboard")).count, 1, file: file, line: line)
        XCTAssertEqual(try checkpointNames(run, "latest"), ["latest-epoch=0-step=3.ckpt"], file: file, line: line)
        let mainLog = try String(contentsOf: run.appendingPathComponent("train.log"), encoding: .utf8)
        XCTAssertTrue(mainLog.contains("data-parallel: 2 processes (gloo), a global batch of 2 × 1 clips"), mainLog, file: file, line: line)
        let rankLog = try String(contentsOf: run.appendingPathComponent("train_rank1.log"), encoding: .utf8)
        XCTAssertTrue(rankLog.contains("step 3: train_loss "), rankLog, file: file, line: line)

        let (logged, expected) = (try loggedScalars(run), try loggedScalars(reference))
        XCTAssertEqual(logged.loss, expected.loss, "train_loss", file: file, line: line)
        XCTAssertEqual(logged.norm, expected.norm, "gradient_norm", file: file, line: line)
        let checkpoint = "checkpoints/latest/latest-epoch=0-step=3.ckpt"
        let compared = try PyTorchBaseline.shared.run("""
        a = torch.load(\(pythonString(run.appendingPathComponent(checkpoint).path)), map_location='cpu', weights_only=False)
        b = torch.load(\(pythonString(reference.appendingPathComponent(checkpoint).path)), map_location='cpu', weights_only=False)
        differences, leaves = [], [0]
        def compare(x, y, path):
            if isinstance(x, dict) and isinstance(y, dict):
                if set(x) != set(y): differences.append(f'{path}: keys differ')
                for key in x.keys() & y.keys(): compare(x[key], y[key], f'{path}/{key}')
            elif isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)) and len(x) == len(y):
                for i, (u, v) in enumerate(zip(x, y)): compare(u, v, f'{path}/{i}')
            elif torch.is_tensor(x) and torch.is_tensor(y):
                leaves[0] += 1
                same = x.dtype == y.dtype and x.shape == y.shape and torch.equal(
                    x.reshape(-1).contiguous().view(torch.uint8), y.reshape(-1).contiguous().view(torch.uint8))
                if not same: differences.append(path)
            else:
                leaves[0] += 1
                if type(x) != type(y) or x != y: differences.append(f'{path}: {x!r} != {y!r}')
        compare(a, b, '')
        assert not differences, 'checkpoints differ at ' + ', '.join(differences[:20])
        O['leaves'] = leaves[0]
        """)
        XCTAssertGreaterThan(try XCTUnwrap(compared["leaves"]).item(Int.self), 50, "entries compared", file: file, line: line)
    }

    /// torchrun from the project's venv (setup installs it with torch).
    private static func torchrun() throws -> URL {
        let torchrun = PyTorchBaseline.repositoryRoot.appendingPathComponent(".venv/bin/torchrun")
        guard FileManager.default.isExecutableFile(atPath: torchrun.path) else { throw XCTSkip("no torchrun in .venv") }
        return torchrun
    }

    /// The variables srun gives task `rank` of `tasks`, spread evenly over `nodes` nodes that
    /// are all this machine (the node list's first name, rank 0's host, is localhost), with
    /// MASTER_PORT set (srun users set it; its derivation from SLURM_JOB_ID is tested in ProcessGroupTests).
    private static func srunTask(rank: Int, of tasks: Int, nodes: Int, port: Int) -> [String: String] {
        let perNode = tasks / nodes
        return ["SLURM_PROCID": "\(rank)", "SLURM_LOCALID": "\(rank % perNode)", "SLURM_NODEID": "\(rank / perNode)",
                "SLURM_STEP_ID": "0", "SLURM_NTASKS": "\(tasks)", "SLURM_NNODES": "\(nodes)", "SLURM_NTASKS_PER_NODE": "\(perNode)",
                "SLURM_NODELIST": (["localhost"] + Array(repeating: "127.0.0.1", count: nodes - 1)).joined(separator: ","),
                "SLURM_JOB_ID": "4242", "MASTER_PORT": "\(port)"]
    }

    /// Starts the commands at once, as a job's nodes or tasks start, each with this process's
    /// environment less any launcher's variables, plus its own; waits for all (killing them
    /// after `limit` seconds, which fails the test) and returns each one's status and output.
    private func launchTogether(_ commands: [(executable: URL, arguments: [String], environment: [String: String])],
                                limit: Double = 600) throws -> [(status: Int32, output: String)] {
        let launcherVariables: Set = ["MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
                                      LocalLauncher.launcherVariable]
        let inherited = ProcessInfo.processInfo.environment.filter {
            !launcherVariables.contains($0.key) && !$0.key.hasPrefix("SLURM_") && !$0.key.hasPrefix("TORCHELASTIC_")
        }
        var started: [(process: Process, output: URL)] = []
        defer { for (process, _) in started where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        for command in commands {
            let process = Process()
            process.executableURL = command.executable
            process.arguments = command.arguments
            process.currentDirectoryURL = PyTorchBaseline.repositoryRoot
            process.environment = inherited.merging(command.environment) { $1 }
            // A file, not a pipe: a pipe nobody reads while the test waits on another process could fill and block its writer.
            let output = directory.appendingPathComponent("launched-\(started.count)-\(UUID().uuidString).txt")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            (process.standardOutput, process.standardError) = (handle, handle)
            try process.run()
            try handle.close()
            started.append((process, output))
        }
        let deadline = Date().addingTimeInterval(limit)
        while started.contains(where: { $0.process.isRunning }) && Date() < deadline { usleep(50_000) }
        let hung = started.filter { $0.process.isRunning }.count
        XCTAssertEqual(hung, 0, "processes still running after \(Int(limit)) s")
        for (process, _) in started where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return try started.map { process, output in
            process.waitUntilExit()
            return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
        }
    }

    /// A launch that cannot work stops with one line before any worker or run folder exists.
    func testBadLaunchStopsWithOneLineBeforeWriting() throws {
        let run = directory.appendingPathComponent("bad")
        let cases: [([String], [String: String], String)] = [
            (["--nproc-per-node", "0"], [:], "--nproc-per-node must be at least 1 (got 0)"),
            ([], ["MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1", "RANK": "5", "WORLD_SIZE": "2"], "rank 5 is not below the world size 2"),
            ([], ["MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "x", "RANK": "0", "WORLD_SIZE": "2"], "MASTER_PORT=x is not a valid value"),
        ]
        for (options, environment, message) in cases {
            let result = try NanoWMExecutable.run(["train", "--run-dir", run.path] + options + overrides(), environment: environment)
            XCTAssertNotEqual(result.status, 0)
            let lines = result.error.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.error)
            XCTAssertTrue(result.error.contains(message), result.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.path), "nothing may be written")
        }
    }

    /// `train --nproc-per-node 2` into run folder `name`, returned once it wrote a checkpoint
    /// (with the time it started); the caller kills it if it outlives the test.
    private func twoWorkersUnderWay(_ name: String) throws -> (launcher: Process, run: URL, started: Date) {
        let run = directory.appendingPathComponent(name)
        let launcher = Process()
        launcher.executableURL = NanoWMExecutable.url
        launcher.arguments = ["train", "--nproc-per-node", "2", "--run-dir", run.path, "--dist-timeout", "30"]
            + overrides(["experiment.training.batch_size=1", "experiment.training.max_steps=100000"])
        launcher.currentDirectoryURL = PyTorchBaseline.repositoryRoot
        launcher.standardOutput = FileHandle.nullDevice
        launcher.standardError = FileHandle.nullDevice
        let started = Date()
        try launcher.run()
        XCTAssertTrue(TrainingTests.waitForCheckpoint(in: run.appendingPathComponent("checkpoints/latest"), newerThan: started,
                                                      while: launcher, timeout: 300), "no checkpoint appeared")
        return (launcher, run, started)
    }

    /// SIGTERM to the launcher of two workers: it passes the signal on, the workers agree on a
    /// step, rank 0 saves there, and the launcher exits 143 once they are done.
    func testSIGTERMToTheLauncherSavesAndExits143() throws {
        let (launcher, run, _) = try twoWorkersUnderWay("preempted")
        defer { if launcher.isRunning { kill(launcher.processIdentifier, SIGKILL) } }
        let signalled = Date()
        kill(launcher.processIdentifier, SIGTERM)
        launcher.waitUntilExit()
        XCTAssertEqual(launcher.terminationReason, .exit)
        XCTAssertEqual(launcher.terminationStatus, 143)
        let newest = try XCTUnwrap(try RunDirectory(run, create: false).latestCheckpoint)
        let modified = try FileManager.default.attributesOfItem(atPath: newest.path)[.modificationDate] as? Date
        XCTAssertGreaterThanOrEqual(modified ?? .distantPast, signalled, "rank 0 saved when it stopped")
    }

    /// kill -9 of the launcher: its workers are told (SIGTERM, through the parent-death
    /// signal), agree to stop, rank 0 saves, and no process of the run is left behind.
    func testKilledLauncherTakesItsWorkersWithIt() throws {
        let (launcher, run, _) = try twoWorkersUnderWay("orphans")
        defer { if launcher.isRunning { kill(launcher.processIdentifier, SIGKILL) } }
        let workers = try [0, 1].map { try XCTUnwrap(Self.worker(rank: $0, arguments: run.path), "rank \($0)'s process") }
        defer { workers.forEach { kill($0, SIGKILL) } }
        kill(launcher.processIdentifier, SIGKILL)
        launcher.waitUntilExit()
        let killed = Date()
        while workers.contains(where: processIsRunning) && Date().timeIntervalSince(killed) < 30 { usleep(50_000) }
        XCTAssertFalse(workers.contains(where: processIsRunning), "workers \(workers.filter(processIsRunning)) outlived their launcher")
        XCTAssertNotNil(try RunDirectory(run, create: false).latestCheckpoint)
    }

    /// The process of this test's run (found by its run folder on the command line) with `RANK`.
    static func worker(rank: Int, arguments fragment: String) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                  let command = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")),
                  String(decoding: command, as: UTF8.self).contains(fragment),
                  let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/environ")) else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("RANK=\(rank)") && variables.contains(where: { $0.hasPrefix("MASTER_PORT=") }) { return pid }
        }
        return nil
    }
}
