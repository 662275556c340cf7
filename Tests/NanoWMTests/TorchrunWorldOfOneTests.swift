import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// `torchrun --nproc-per-node 1 --no-python nanowm train …` forms a process group of one, as
/// torch.distributed does: on a machine with one GPU it is the one way to run NCCL (issue #24's
/// device check does). It trains as the plain single process does, up to rounding: gradients
/// pass through the flat buckets of the exchange (measured after 3 steps: the same logged
/// losses and norms, weights within 1.8e-6 of their scale).
final class TorchrunWorldOfOneTests: XCTestCase {
    func testAWorldOfOneUnderTorchrunTrainsInAGroupAsOneProcessDoes() throws {
        let torchrun = PyTorchBaseline.repositoryRoot.appendingPathComponent(".venv/bin/torchrun")
        guard FileManager.default.isExecutableFile(atPath: torchrun.path) else { throw XCTSkip("no torchrun in .venv") }
        let scratch = try TemporaryDirectory("world-of-one")
        defer { scratch.remove() }
        let overrides = TinyTraining.overrides(dataDirectory: scratch.url.appendingPathComponent("data"),
                                               ["experiment.training.max_steps=3", "experiment.evaluation.metrics.evaluate=false"])
        let plain = try NanoWMExecutable.run(["train", "--run-dir", scratch.path("plain")] + overrides, environment: ["OMP_NUM_THREADS": "1"])
        XCTAssertEqual(plain.status, 0, plain.error)
        XCTAssertFalse(plain.output.contains("data-parallel"), plain.output)

        let process = Process()
        process.executableURL = torchrun
        process.arguments = ["--standalone", "--nproc-per-node", "1", "--no-python", NanoWMExecutable.url.path, "train",
                             "--run-dir", scratch.path("group"), "--dist-timeout", "120"] + overrides
        process.currentDirectoryURL = PyTorchBaseline.repositoryRoot
        let output = Pipe()
        (process.standardOutput, process.standardError) = (output, output)
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("data-parallel: 1 processes (gloo)"), text)

        let logged = { (run: String) throws -> [String] in
            try String(contentsOfFile: scratch.path(run + "/train.log"), encoding: .utf8).split(separator: "\n")
                .compactMap { line in line.range(of: "step ").map { String(line[$0.lowerBound...]) } }
        }
        XCTAssertEqual(try logged("group"), try logged("plain"), "logged losses and gradient norms")
        XCTAssertEqual(try logged("plain").count, 3)

        let checkpoint = "checkpoints/latest/latest-epoch=0-step=3.ckpt"
        let compared = try PyTorchBaseline.shared.run("""
        a = torch.load(\(pythonString(scratch.path("group/" + checkpoint))), map_location='cpu', weights_only=True)['state_dict']
        b = torch.load(\(pythonString(scratch.path("plain/" + checkpoint))), map_location='cpu', weights_only=True)['state_dict']
        assert set(a) == set(b), set(a) ^ set(b)
        O['relative'] = torch.tensor(max(float((a[k].double() - b[k].double()).abs().max() / b[k].double().abs().max().clamp_min(1e-12)) for k in a))
        """)
        let relative = try XCTUnwrap(compared["relative"]).item(Double.self)
        print("world of one under torchrun vs one process, 3 steps: weights within \(relative) of their scale")
        XCTAssertLessThan(relative, 1e-5, "weights after 3 steps differ from the plain run's by more than rounding")
    }
}
