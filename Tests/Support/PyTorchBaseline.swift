import Foundation
import SwiftTorch
import XCTest

/// The project's PyTorch baseline: a Python worker from the project environment (`.venv`,
/// or `NANOWM_PYTHON`), started once per test process, that runs snippets of PyTorch code on
/// tensors the test hands it and returns the tensors the snippet puts in `O`.
public final class PyTorchBaseline {
    public static let shared = PyTorchBaseline()

    /// The repository root, found from this file's location.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var pythonPath: String {
        ProcessInfo.processInfo.environment["NANOWM_PYTHON"]
            ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    private let lock = NSLock()
    private var process: Process?
    private var requests: FileHandle?
    private var responses: FileHandle?
    private var buffered = Data()
    private let scratch: URL
    private var counter = 0

    private init() {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-baseline-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        removeAtExit(scratch)
    }

    private func start() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.pythonPath) else {
            throw TorchError.invalidArgument("PyTorch baseline needs \(Self.pythonPath): run scripts/setup first")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.pythonPath)
        p.arguments = [Self.repositoryRoot.appendingPathComponent("Tests/Support/torch_worker.py").path]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.standardError
        try p.run()
        process = p
        requests = input.fileHandleForWriting
        responses = output.fileHandleForReading
    }

    private func readLine() throws -> Data {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = buffered[buffered.startIndex..<newline]
                buffered = Data(buffered[(newline + 1)...])
                return Data(line)
            }
            // `availableData` returns what the pipe holds now; `read(upToCount:)` would wait
            // for the full count (or EOF) on Linux and deadlock against the worker.
            guard let chunk = responses?.availableData, !chunk.isEmpty else {
                throw TorchError.invalidArgument("PyTorch baseline worker exited unexpectedly")
            }
            buffered.append(chunk)
        }
    }

    /// Runs `code` with `torch`, `F`, `math` and the inputs as `I`; returns what it put in `O`.
    public func run(_ code: String, inputs: [String: Tensor] = [:]) throws -> [String: Tensor] {
        lock.lock()
        defer { lock.unlock() }
        if process == nil { try start() }
        counter += 1
        let inPath = scratch.appendingPathComponent("in-\(counter).safetensors").path
        let outPath = scratch.appendingPathComponent("out-\(counter).safetensors").path
        defer {
            try? FileManager.default.removeItem(atPath: inPath)
            try? FileManager.default.removeItem(atPath: outPath)
        }
        if !inputs.isEmpty { try SafeTensors.write(inputs, to: inPath) }
        let request: [String: Any] = ["code": code, "inputs": inputs.isEmpty ? NSNull() : inPath, "outputs": outPath]
        var line = try JSONSerialization.data(withJSONObject: request)
        line.append(0x0A)
        try requests!.write(contentsOf: line)
        let reply = try JSONSerialization.jsonObject(with: try readLine()) as? [String: Any] ?? [:]
        guard reply["ok"] as? Bool == true else {
            throw TorchError.invalidArgument("PyTorch snippet failed:\n\(reply["error"] as? String ?? "no reply")")
        }
        return try SafeTensors.read(outPath).tensors
    }

    /// TorchScript compiles a class from its source, so a module a test defines is written to
    /// `file` first; returns the Python lines that import it as `name`, to begin a snippet with.
    public static func importing(_ source: String, from file: String, as name: String) throws -> String {
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        return """
        import importlib.util
        spec = importlib.util.spec_from_file_location(\(pythonString(name)), \(pythonString(file)))
        \(name) = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(\(name))
        """
    }
}

/// The largest absolute elementwise difference, computed in float64.
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
    try (a.to(.float64) - b.to(.float64)).abs().max().item(Double.self)
}

/// Asserts equal shapes and every element within `atol + rtol·|expected|`, reporting the
/// worst difference. `expected` is PyTorch's value. A NaN on either side fails: no parity test
/// expects one, and NaN compares unequal to everything, itself included.
public func assertClose(_ actual: Tensor, _ expected: Tensor?, atol: Double = 1e-6, rtol: Double = 0,
                        _ what: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
    guard let expected else { return XCTFail("\(what): PyTorch produced no value", file: file, line: line) }
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let a = try actual.to(.float64), e = try expected.to(.float64)
    let nans = (try a.isnan().sum().item(Int.self), try e.isnan().sum().item(Int.self))
    guard nans == (0, 0) else {
        return XCTFail("\(what): NaN in \(nans.0) computed and \(nans.1) expected elements", file: file, line: line)
    }
    if !(try a.allClose(e, rtol: rtol, atol: atol)) {
        let diff = try maxAbsDifference(a, e)
        XCTFail("\(what): max |Δ| = \(diff) exceeds atol \(atol) + rtol \(rtol)", file: file, line: line)
    }
}

/// Asserts identical dtype, shape and bits (`torch.equal`).
public func assertExactlyEqual(_ actual: Tensor, _ expected: Tensor?, _ what: String = "",
                               file: StaticString = #filePath, line: UInt = #line) throws {
    guard let expected else { return XCTFail("\(what): PyTorch produced no value", file: file, line: line) }
    XCTAssertEqual(actual.dtype, expected.dtype, "\(what): dtype", file: file, line: line)
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    if actual.dtype == expected.dtype && actual.shape == expected.shape {
        XCTAssertEqual(try actual.bytes(), try expected.bytes(), "\(what): values differ", file: file, line: line)
    }
}
