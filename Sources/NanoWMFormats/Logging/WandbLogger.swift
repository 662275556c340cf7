import Foundation

/// Logs to Weights & Biases through W&B's own Python SDK: `nanowm` has no Python in it, so it
/// starts a companion process (`python -c <companionScript>`) that calls `wandb.init` and then
/// `run.log` for each record streamed to it as a JSON line on its standard input. Everything
/// logged at one step goes in one `run.log(…, step=)` call; images go as PNG files and videos as
/// animated GIFs written under `<run>/wandb/media/`. The companion's own output (W&B's messages)
/// goes to `<run>/wandb/companion.log`.
///
/// W&B must never stop training: when the companion cannot start (no such Python, no `wandb`
/// package, `wandb.init` failing), `start` says why in one line and returns nil; when it ends
/// during the run, the next record says so in one line and nothing more is sent.
public final class WandbLogger: MetricsLogger, @unchecked Sendable {
    /// What `wandb.init` is given.
    public struct Run {
        public var project: String
        public var entity: String?
        public var name: String
        /// online or offline.
        public var mode: String
        /// The hyperparameters, as a JSON object's text.
        public var configJSON: String
        /// The run folder: W&B writes `<folder>/wandb/`, and a resumed run continues the W&B run
        /// whose id it left there.
        public var folder: URL

        public init(project: String, entity: String?, name: String, mode: String, configJSON: String, folder: URL) {
            (self.project, self.entity, self.name, self.mode, self.configJSON, self.folder) = (project, entity, name, mode, configJSON, folder)
        }
    }

    /// How long `wandb.init` may take (an online run logs in first).
    public static let startSeconds = 120.0

    /// The W&B run's id.
    public let runID: String
    private let process: Process
    private let input: FileHandle
    private let media: URL
    private let note: (String) -> Void
    private let lock = NSLock()
    private var pending: (step: Int, items: [String])?
    private var mediaCount = 0
    private var ended = false

    /// Starts the companion with `python` (a name on PATH or a path) and waits for `wandb.init`.
    /// Returns nil, having said why through `note`, when W&B cannot log this run.
    public static func start(python: String, run: Run, note: @escaping (String) -> Void) -> WandbLogger? {
        do {
            return try WandbLogger(python: python, run: run, note: note)
        } catch {
            note("W&B: \(error); logging to TensorBoard only")
            return nil
        }
    }

    private init(python: String, run: Run, note: @escaping (String) -> Void) throws {
        let folder = run.folder.appendingPathComponent("wandb")
        media = folder.appendingPathComponent("media")
        try FileManager.default.createDirectory(at: media, withIntermediateDirectories: true)
        let idFile = folder.appendingPathComponent("nanowm_run_id")
        let previousID = (try? String(contentsOf: idFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let log = folder.appendingPathComponent("companion.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)

        // A companion that has died must cost a failed write, not this process (SIGPIPE).
        signal(SIGPIPE, SIG_IGN)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-u", "-c", Self.companionScript]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: log)
        do {
            try process.run()
        } catch {
            throw LogFileError("cannot start \(python) (\(error.localizedDescription)); set wandb.python to a Python with the wandb package")
        }
        input = stdin.fileHandleForWriting
        self.note = note

        var spec = "{\"project\": \(Self.quoted(run.project)), \"name\": \(Self.quoted(run.name)), \"mode\": \(Self.quoted(run.mode))"
        spec += ", \"dir\": \(Self.quoted(run.folder.path)), \"config\": \(run.configJSON)"
        if let entity = run.entity { spec += ", \"entity\": \(Self.quoted(entity))" }
        if let previousID, !previousID.isEmpty { spec += ", \"id\": \(Self.quoted(previousID))" }
        spec += "}\n"
        try? input.write(contentsOf: Data(spec.utf8))

        // The first line the companion prints: "ready <id>" or "failed <why>".
        let (answer, timedOut) = Self.firstLine(of: stdout.fileHandleForReading, within: Self.startSeconds)
        let process = self.process
        guard let answer, answer.hasPrefix("ready ") else {
            if timedOut { process.terminate() }
            process.waitUntilExit()
            if timedOut { throw LogFileError("wandb.init gave no answer in \(Int(Self.startSeconds)) s") }
            let why = answer.map { String($0.dropFirst("failed ".count)) }
                ?? (process.terminationStatus == 127 && process.terminationReason == .exit
                    ? "no \(python) to run W&B's SDK with; set wandb.python to a Python with the wandb package"
                    : "\(python) ended before W&B started (see \(log.path))")
            throw LogFileError(why)
        }
        runID = String(answer.dropFirst("ready ".count))
        try? Data((runID + "\n").utf8).write(to: idFile)
    }

    deinit { try? close() }

    public func scalar(_ name: String, _ value: Double, step: Int) throws {
        // Python's json reads NaN and Infinity, which JSON itself has no words for.
        let number = value.isNaN ? "NaN" : value.isInfinite ? (value > 0 ? "Infinity" : "-Infinity") : "\(value)"
        add("\(Self.quoted(name)): \(number)", step: step)
    }

    public func image(_ name: String, _ image: RGBImage, step: Int) throws {
        let file = try mediaFile(step: step, extension: "png")
        try PNGEncoder.write(image, to: file)
        add("\(Self.quoted(name)): {\"image\": \(Self.quoted(file.path))}", step: step)
    }

    public func video(_ name: String, frames: [RGBImage], fps: Double, step: Int) throws {
        let file = try mediaFile(step: step, extension: "gif")
        try GIFEncoder.write(frames: frames, fps: fps, to: file)
        add("\(Self.quoted(name)): {\"video\": \(Self.quoted(file.path))}", step: step)
    }

    public func flush() throws {
        lock.withLock { sendPending() }
    }

    /// Sends what is pending and lets the companion finish the W&B run (it uploads or writes
    /// the last records), waiting for it a while.
    public func close() throws {
        let wasEnded = lock.withLock { () -> Bool in
            sendPending()
            send("{\"finish\": true}")
            let wasEnded = ended
            ended = true
            return wasEnded
        }
        guard !wasEnded else { return }
        try? input.close()
        let deadline = Date().addingTimeInterval(Self.startSeconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
    }

    private func add(_ item: String, step: Int) {
        lock.withLock {
            if let pending, pending.step != step { sendPending() }
            if pending == nil { pending = (step, []) }
            pending?.items.append(item)
        }
    }

    private func sendPending() {
        guard let pending else { return }
        self.pending = nil
        send("{\"step\": \(pending.step), \"data\": {\(pending.items.joined(separator: ", "))}}")
    }

    private func send(_ line: String) {
        guard !ended else { return }
        do {
            try input.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            ended = true
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            let how = process.isRunning ? "stopped reading"
                : process.terminationReason == .uncaughtSignal ? "was killed by signal \(process.terminationStatus)"
                : "exited with status \(process.terminationStatus)"
            note("W&B: the companion process \(how); training goes on, logging to TensorBoard only")
        }
    }

    private func mediaFile(step: Int, extension: String) throws -> URL {
        let folder = media.appendingPathComponent(String(format: "step_%07d", step))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let index = lock.withLock { () -> Int in
            mediaCount += 1
            return mediaCount
        }
        return folder.appendingPathComponent("\(index).\(`extension`)")
    }

    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    /// The first line `handle` gives within `seconds`: nil when it closed first, or when the
    /// time ran out (`timedOut`).
    static func firstLine(of handle: FileHandle, within seconds: Double) -> (line: String?, timedOut: Bool) {
        final class Box: @unchecked Sendable { var line: String? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        Thread {
            var bytes = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                bytes.append(chunk)
                if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                    box.line = String(decoding: bytes[..<newline], as: UTF8.self)
                    break
                }
            }
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + seconds) == .success else { return (nil, true) }
        return (box.line, false)
    }

    /// The companion: reads the run's description, starts W&B, answers "ready <id>" or
    /// "failed <why>" on its standard output (everything else it or W&B prints goes to
    /// standard error), then logs each record until "finish" or the end of its input (nanowm
    /// has ended), and finishes the run.
    static let companionScript = #"""
import json, os, sys
answer = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

def say(text):
    answer.write(text.replace("\n", " ") + "\n")
    answer.flush()

def main():
    spec = json.loads(sys.stdin.readline())
    try:
        import wandb
    except Exception as error:
        say("failed %s cannot import the wandb package (%s): pip install wandb there, or set wandb.python"
            % (sys.executable, error))
        return
    try:
        run = wandb.init(project=spec["project"], entity=spec.get("entity"), name=spec["name"], dir=spec["dir"],
                         mode=spec["mode"], config=spec["config"], id=spec.get("id"),
                         resume="allow" if spec.get("id") else None)
    except Exception as error:
        text = str(error).strip().splitlines()
        say("failed wandb.init: %s" % (text[0] if text else type(error).__name__))
        return
    say("ready %s" % run.id)
    for line in sys.stdin:
        record = json.loads(line)
        if record.get("finish"):
            break
        data = {}
        for key, value in record["data"].items():
            if isinstance(value, dict) and "video" in value:
                data[key] = wandb.Video(value["video"], format="gif")
            elif isinstance(value, dict) and "image" in value:
                data[key] = wandb.Image(value["image"])
            else:
                data[key] = value
        run.log(data, step=record["step"])
    run.finish()

main()
"""#
}
