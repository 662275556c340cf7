import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// TorchScript modules saved by Python's `torch.jit.save`, loaded and run here, against the
/// same module run by PyTorch live: positional and keyword arguments of every kind, nested
/// results, parameters and buffers by name, attributes, eval mode, dtype moves, and errors
/// with TorchScript's own message.
final class TorchScriptTests: XCTestCase {
    private var directory: TemporaryDirectory!
    override func setUpWithError() throws { directory = try TemporaryDirectory("torchscript-tests") }
    override func tearDown() { directory.remove() }

    /// A scripted module with a submodule, a buffer, dropout, an attribute, optional and
    /// keyword arguments, a tuple-and-dict result and a second exported method. It is written to
    /// a file and imported from there: `torch.jit.script` reads a class's source from its file.
    static let moduleSource = """
    from typing import Dict, List, Optional, Tuple
    import torch
    class Inner(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 3)
            self.register_buffer('scale', torch.tensor([2.0]))
        def forward(self, x):
            return self.lin(x) * self.scale
    class Model(torch.nn.Module):
        scaling_factor: float
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.drop = torch.nn.Dropout(0.5)
            self.scaling_factor = 0.18215
        def forward(self, x: torch.Tensor, y: Optional[torch.Tensor] = None, gain: float = 1.0,
                    flip: bool = False) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
            h = self.inner(self.drop(x)) * gain
            if y is not None:
                h = h + y
            if flip:
                h = -h
            return h, {'sum': h.sum(dim=-1), 'mean': h.mean()}
        @torch.jit.export
        def encode(self, xs: List[torch.Tensor], widths: List[int], name: str) -> List[torch.Tensor]:
            if name != 'ok':
                raise ValueError('bad name ' + name)
            return [x[..., :w] for x, w in zip(xs, widths)]
    """

    /// Saves the module to `path` and returns what PyTorch computes with it (eval mode).
    private func makeModule(_ path: String, _ x: Tensor, _ y: Tensor, weight: Tensor) throws -> [String: Tensor] {
        let definitions = try PyTorchBaseline.importing(Self.moduleSource, from: directory.path("scripted_model.py"), as: "definitions")
        return try PyTorchBaseline.shared.run("""
        \(definitions)
        torch.manual_seed(0)
        module = torch.jit.script(definitions.Model())
        module.save(\(pythonString(path)))
        module.eval()
        h, stats = module(I['x'], y=I['y'], gain=0.5, flip=True)
        O['h'], O['sum'], O['mean'] = h, stats['sum'], stats['mean']
        O['plain'] = module(I['x'])[0]
        parts = module.encode([I['x'], I['y']], [2, 1], 'ok')
        O['part0'], O['part1'] = parts[0], parts[1]
        with torch.no_grad():
            module.inner.lin.weight.copy_(I['w'])
        O['reweighted'] = module(I['x'])[0]
        """, inputs: ["x": x, "y": y, "w": weight])
    }

    func testScriptedModuleEqualsPyTorch() throws {
        let x = try Tensor.randn([2, 5, 4]), y = try Tensor.randn([2, 5, 3]), weight = try Tensor.randn([3, 4])
        let path = directory.path("model.pt")
        let torch = try makeModule(path, x, y, weight: weight)
        let module = try ScriptModule(contentsOf: path)
        try module.eval()

        let result = try module.run("forward", [.tensor(x)], keywords: [("y", .tensor(y)), ("gain", 0.5), ("flip", true)])
        let parts = try result.elements()
        XCTAssertEqual(parts.count, 2)
        try assertExactlyEqual(try parts[0].tensor(), torch["h"], "h")
        let stats = try parts[1].tensorDictionary()
        try assertExactlyEqual(try XCTUnwrap(stats["sum"]), torch["sum"], "sum")
        try assertExactlyEqual(try XCTUnwrap(stats["mean"]), torch["mean"], "mean")
        try assertExactlyEqual(try module.run("forward", [.tensor(x)]).elements()[0].tensor(), torch["plain"], "defaults")

        let encoded = try module.run("encode", [.list([.tensor(x), .tensor(y)]), [2, 1], "ok"]).tensors()
        try assertExactlyEqual(encoded[0], torch["part0"], "encode 0")
        try assertExactlyEqual(encoded[1], torch["part1"], "encode 1")
        XCTAssertTrue(try module.hasMethod("encode"))
        XCTAssertFalse(try module.hasMethod("decode"))

        XCTAssertEqual(try module.namedParameters().map(\.name), ["inner.lin.weight", "inner.lin.bias"])
        XCTAssertEqual(try module.namedBuffers().map(\.name), ["inner.scale"])
        XCTAssertEqual(try module.attribute("scaling_factor").number(), 0.18215)
        XCTAssertEqual(try module.attribute("inner.scale").tensor().item(Double.self), 2.0)

        try module.setTensor("inner.lin.weight", weight)
        try assertExactlyEqual(try module.run("forward", [.tensor(x)]).elements()[0].tensor(), torch["reweighted"], "new weight")
    }

    /// Training mode keeps dropout on (outputs differ from eval), eval turns it off; a dtype
    /// move converts parameters and results.
    func testModesAndDtypeMoves() throws {
        let x = try Tensor.randn([2, 5, 4]), y = try Tensor.randn([2, 5, 3])
        let path = directory.path("model.pt")
        let torch = try makeModule(path, x, y, weight: try Tensor.randn([3, 4]))
        let module = try ScriptModule(contentsOf: path)
        try module.train()
        let training = try module.run("forward", [.tensor(x)]).elements()[0].tensor()
        XCTAssertGreaterThan(try maxAbsDifference(training, try XCTUnwrap(torch["plain"])), 0, "dropout is on in training mode")
        try module.eval()
        try module.to(dtype: .float64)
        let double = try module.run("forward", [.tensor(try x.to(.float64))]).elements()[0].tensor()
        XCTAssertEqual(double.dtype, .float64)
        try assertClose(double, torch["plain"], atol: 1e-6, "float64 module")
    }

    func testErrorsCarryTorchScriptsMessage() throws {
        let x = try Tensor.randn([2, 5, 4])
        let path = directory.path("model.pt")
        _ = try makeModule(path, x, try Tensor.randn([2, 5, 3]), weight: try Tensor.randn([3, 4]))
        let module = try ScriptModule(contentsOf: path)
        let cases: [(String, String, () throws -> Void)] = [
            ("missing method", "no method 'decode'", { _ = try module.run("decode", [.tensor(x)]) }),
            ("wrong argument type", "Expected a value of type 'Tensor'", { _ = try module.run("forward", ["text"]) }),
            ("unknown keyword", "Unknown keyword argument 'scale'", { _ = try module.run("forward", [.tensor(x)], keywords: [("scale", 2.0)]) }),
            ("raise inside", "bad name nope", { _ = try module.run("encode", [.list([.tensor(x)]), [1], "nope"]) }),
            ("wrong shape", "[3, 4]", { try module.setTensor("inner.lin.weight", try Tensor.zeros([4, 4])) }),
            ("missing parameter", "no parameter or buffer 'inner.lin.gamma'", { try module.setTensor("inner.lin.gamma", try Tensor.zeros([1])) }),
            ("shape inside", "mat1 and mat2 shapes cannot be multiplied", { _ = try module.run("forward", [.tensor(try Tensor.zeros([2, 7]))]) }),
        ]
        for (what, expected, body) in cases {
            XCTAssertThrowsError(try body(), what) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(what): \(error)")
            }
        }
        let notScript = directory.path("weights.bin")
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: notScript))
        assertOneLineError({ try ScriptModule(contentsOf: notScript) }, mentions: ["\(notScript): not a TorchScript file"])
        assertOneLineError({ try ScriptModule(contentsOf: directory.path("missing.pt")) }, mentions: ["missing.pt: cannot open: no such file"])
    }

    /// Checked before libtorch reads the file: a checkpoint passed where a module belongs, a
    /// truncated module, a FIFO and a folder each end in one line, without reaching torch::jit::load.
    func testFilesThatAreNotTorchScriptModulesAreRefusedBeforeLoading() throws {
        let x = try Tensor.randn([2, 5, 4])
        let path = directory.path("whole.pt")
        _ = try makeModule(path, x, try Tensor.randn([2, 5, 3]), weight: try Tensor.randn([3, 4]))
        let checkpoint = directory.path("weights.ckpt")
        try Checkpoint.save([("w", try Tensor.zeros([3]))], to: checkpoint)
        assertOneLineError({ try ScriptModule(contentsOf: checkpoint) },
                           mentions: ["\(checkpoint): a torch.save checkpoint", "torch.jit.script"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = directory.path("truncated.pt")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        assertOneLineError({ try ScriptModule(contentsOf: truncated) }, mentions: ["\(truncated): not a TorchScript file"])
        let fifo = directory.path("pipe.pt")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        assertOneLineError({ try ScriptModule(contentsOf: fifo) }, mentions: ["\(fifo): is a FIFO"])
        assertOneLineError({ try ScriptModule(contentsOf: directory.url.path) }, mentions: ["is a folder"])
        XCTAssertNoThrow(try ScriptModule(contentsOf: path), "the whole module still loads")
    }

    /// Damaged modules on which libtorch's loader crashed or asked for 1.9 GB under fuzzing
    /// (Tests/Fixtures/README.md): without the checksum check this test process dies.
    func testDamagedModulesFromFuzzingAreRefusedBeforeLibtorchParsesThem() throws {
        let findings = FixtureFile.directory.appendingPathComponent("formats/torchscript_fuzz_findings")
        let names = try FileManager.default.contentsOfDirectory(atPath: findings.path).filter { $0.hasSuffix(".pt") }.sorted()
        XCTAssertEqual(names.count, 5)
        for name in names {
            let path = findings.appendingPathComponent(name).path
            let error = assertOneLineError({ try ScriptModule(contentsOf: path) }, mentions: [path])
            let text = "\(error.map { "\($0)" } ?? "")"
            XCTAssertTrue(text.contains("does not match its checksum") || text.contains("not a TorchScript file"), text)
        }
    }
}
