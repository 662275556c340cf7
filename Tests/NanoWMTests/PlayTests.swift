import Foundation
import NanoWM
import NanoWMCore
import NanoWMFormats
import SwiftTorch
import TestSupport
import XCTest

/// `nanowm play`'s game without the browser: a recording replays with `nanowm rollout` to the
/// same latents bit for bit (both sample cached, frame by frame, from the same seed); tabs do
/// not disturb each other's draws; keys become the map's actions and move the true simulator;
/// key maps from files are checked in one line.
final class PlayTests: XCTestCase {
    private static var scratch: TemporaryDirectory!
    private static var checkpoint = ""

    /// One tiny training run (seconds) for the whole class.
    override class func setUp() {
        super.setUp()
        do {
            scratch = try TemporaryDirectory("play")
            let train = try NanoWMExecutable.run(["train", "--run-dir", scratch.path("run")]
                                                 + TinyTraining.overrides(dataDirectory: scratch.url.appendingPathComponent("data")))
            guard train.status == 0 else { return XCTFail("training failed: \(train.error)") }
            checkpoint = try XCTUnwrap(RunDirectory(scratch.url.appendingPathComponent("run"), create: false).latestCheckpoint).path
        } catch { XCTFail("cannot train the play test's run: \(error)") }
    }

    override class func tearDown() { scratch?.remove() }

    private func world(steps: Int = 3, recordings: String = "recordings") throws -> PlayWorld {
        let trained = try TrainedCheckpoint(Self.checkpoint)
        let model = try trained.model(.init(), device: .cpu)
        model.eval()
        let setup = try trained.samplingSetup(.init(), defaults: .init(steps: steps, mode: .sequential))
        return try PlayWorld(checkpoint: trained, model: model, device: .cpu, setup: setup, start: nil, history: nil, actionMap: nil,
                             recordings: Self.scratch.url.appendingPathComponent(recordings))
    }

    func testRecordingReplaysWithRolloutBitForBit() throws {
        let session = try world().session(seed: 11)
        let map = session.world.actionMap
        _ = try session.step(held: ["ArrowRight"])
        try session.startRecording()
        for keys: Set<String> in [["ArrowRight"], ["ArrowDown", "KeyD"], [], ["ArrowUp"], ["ArrowLeft", "ArrowUp"]] {
            let frame = try session.step(held: keys)
            XCTAssertEqual(frame.action, map.action(held: keys))
        }
        let recording = try session.stopRecording()
        XCTAssertEqual(recording.frames, session.world.history + 5)
        XCTAssertEqual(try MP4Writer.probe(recording.video).frames, recording.frames)
        // The printed command, run as printed except for where it writes.
        var arguments = recording.replay.split(separator: " ").map(String.init)
        XCTAssertEqual(arguments.removeFirst(), "nanowm")
        let output = try XCTUnwrap(arguments.firstIndex(of: "--output")) + 1
        arguments[output] = Self.scratch.path("replay.safetensors")
        let replay = try NanoWMExecutable.run(arguments)
        XCTAssertEqual(replay.status, 0, replay.error)
        let played = try XCTUnwrap(SafeTensors.read(recording.clip.path).tensors["samples"])
        let replayed = try XCTUnwrap(SafeTensors.read(Self.scratch.path("replay.safetensors")).tensors["samples"])
        try assertExactlyEqual(replayed, played, "nanowm rollout's replay of the recording")
    }

    /// Two tabs stepping in turn make the frames each would make alone.
    func testSessionsKeepTheirOwnDraws() throws {
        let world = try world()
        let alone = try world.session(seed: 3)
        let expected = try (0..<3).map { _ in try alone.step(held: ["ArrowDown"]).model.pixels }
        let first = try world.session(seed: 3), second = try world.session(seed: 4)
        var got: [[UInt8]] = []
        for _ in 0..<3 {
            got.append(try first.step(held: ["ArrowDown"]).model.pixels)
            _ = try second.step(held: ["ArrowLeft"])
        }
        XCTAssertEqual(got, expected)
    }

    /// Keys give the wall map's actions: √3 × the dataset's action std per axis, at most the
    /// largest |action| (checked against torch's std of the same actions), summed and clipped
    /// to ±1; the simulator moves right under ArrowRight and left under ArrowLeft, and the
    /// model's frames differ between the two.
    func testKeysDriveTheModelAndTheSimulator() throws {
        let world = try world()
        let settings = try XCTUnwrap(world.configuration.dataset.builtin)
        var rows: [Float] = []
        for episode in 0..<Swift.min(settings.trajectories, 50) {
            rows += WallDataGenerator.walk(episode, length: settings.trajectoryLength, seed: UInt64(settings.seed)).actions.flatMap { [Float($0.0), Float($0.1)] }
        }
        let actions = try Tensor(rows, shape: [rows.count / 2, 2]).to(.float64)
        let std = try actions.std(dims: [0]).toArray(Double.self), largest = try actions.abs().amax(dims: [0]).toArray(Double.self)
        let scale = zip(std, largest).map { Swift.min(3.0.squareRoot() * $0, $1) }
        let map = world.actionMap
        for (axis, key) in [(0, "ArrowRight"), (1, "ArrowDown")] {
            XCTAssertEqual(map.action(held: [key])[axis], scale[axis], accuracy: 1e-6 * scale[axis], key)
        }
        XCTAssertEqual(map.action(held: ["ArrowRight", "KeyD", "ArrowRight"]), [Swift.min(2 * scale[0], 1), 0])
        XCTAssertEqual(map.action(held: ["ArrowLeft", "ArrowRight"]), [0, 0])
        XCTAssertEqual(map.action(held: ["KeyQ"]), [0, 0])

        func play(_ key: String) throws -> (model: [UInt8], simulator: [UInt8]) {
            let session = try world.session(seed: 21)
            var last: PlaySession.Frame?
            for _ in 0..<4 { last = try session.step(held: [key]) }
            let frame = try XCTUnwrap(last)
            return (frame.model.pixels, try XCTUnwrap(frame.simulator).pixels)
        }
        let right = try play("ArrowRight"), left = try play("ArrowLeft"), again = try play("ArrowRight")
        XCTAssertNotEqual(right.simulator, left.simulator)
        XCTAssertNotEqual(right.model, left.model)
        XCTAssertEqual(right.model, again.model, "the same seed and keys give the same frames")
    }

    func testActionMapFilesAreCheckedInOneLine() throws {
        let good = Self.scratch.url.appendingPathComponent("map.json")
        try Data(#"{"rest": [0, 0.5], "keys": {"KeyW": [0, -1], "Space": [1, 1]}, "high": [1, 1]}"#.utf8).write(to: good)
        let map = try ActionMap.load(good, dimension: 2)
        XCTAssertEqual(map.action(held: ["KeyW", "Space"]), [1, 0.5])
        XCTAssertEqual(map.action(held: ["Space"]), [1, 1])
        for (name, text, fragment) in [("short.json", #"{"rest": [0], "keys": {"KeyW": [1]}}"#, "1 values"),
                                       ("empty.json", #"{"rest": [0, 0], "keys": {}}"#, "no keys"),
                                       ("text.json", "rest: [0, 0]", "not valid JSON"),
                                       ("nan.json", #"{"rest": [0, 0], "keys": {"KeyW": [1, 1]}, "low": [0]}"#, "low has 1 values")] {
            let url = Self.scratch.url.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            assertOneLineError({ try ActionMap.load(url, dimension: 2) }, mentions: [name, fragment])
        }
        assertOneLineError({ try ActionMap.load(Self.scratch.url.appendingPathComponent("missing.json"), dimension: 2) },
                           mentions: ["missing.json", "--action-map"])
    }

    /// A game can start from a video through the run's codec: its first frames are the
    /// context (shown as the model sees them), at the rest action; a video shorter than the
    /// context is refused in one line.
    func testAGameStartsFromAVideo() throws {
        let trained = try TrainedCheckpoint(Self.checkpoint)
        let model = try trained.model(.init(), device: .cpu)
        model.eval()
        let setup = try trained.samplingSetup(.init(), defaults: .init(steps: 2, mode: .sequential))
        var simulator = WallEnvironment(resolution: 16, start: (0.3, 0.4))
        var images: [RGBImage] = []
        for _ in 0..<3 {
            images.append(try RGBImage(width: 16, height: 16, pixels: simulator.pixelBytes()))
            simulator.step((1, 0))
        }
        let video = Self.scratch.url.appendingPathComponent("start.mp4")
        try MP4Writer.write(images, fps: 5, to: video)
        let world = try PlayWorld(checkpoint: trained, model: model, device: .cpu, setup: setup, start: try .init(parsing: video.path),
                                  history: nil, actionMap: nil, recordings: Self.scratch.url.appendingPathComponent("video-recordings"))
        let session = try world.session(seed: 1)
        let context = try session.reset()
        XCTAssertEqual(context.count, world.history)
        XCTAssertNil(context[0].simulator)
        // The first context frame is the video's first frame (through MP4 and the pixel codec).
        let shown = try Tensor(context[0].model.pixels, shape: [16, 16, 3]).to(.float32)
        let original = try Tensor(images[0].pixels, shape: [16, 16, 3]).to(.float32)
        XCTAssertLessThan(try (shown - original).abs().mean().item(Double.self), 12, "the context is not the video's first frame")
        XCTAssertEqual(try session.step(held: ["ArrowRight"]).index, world.history)

        try MP4Writer.write(Array(images.prefix(1)), fps: 5, to: Self.scratch.url.appendingPathComponent("short.mp4"))
        let short = try PlayWorld(checkpoint: trained, model: model, device: .cpu, setup: setup,
                                  start: .video(Self.scratch.path("short.mp4")), history: nil, actionMap: nil,
                                  recordings: Self.scratch.url.appendingPathComponent("video-recordings"))
        assertOneLineError({ try short.session(seed: 1) }, mentions: ["short.mp4", "1 frames", "--history"])
    }

    /// Bad targets and settings end in one line before any server starts.
    func testBadPlayArgumentsAreOneLine() throws {
        let run = Self.scratch.path("run")
        let map = Self.scratch.url.appendingPathComponent("wide.json")
        try Data(#"{"rest": [0, 0, 0], "keys": {"KeyW": [1, 0, 0]}}"#.utf8).write(to: map)
        try Folder.create(Self.scratch.url.appendingPathComponent("empty-run"))
        for (arguments, fragments) in [(["play", Self.scratch.path("nowhere")], ["nowhere", "no run folder or checkpoint"]),
                                       (["play", Self.scratch.path("empty-run")], ["empty-run", "no checkpoint"]),
                                       (["play", run, "--context", "val:x"], ["--context", "val:N"]),
                                       (["play", run, "--history", "3"], ["--history 3", "3-frame window"]),
                                       (["play", run, "--mode", "pyramid"], ["--mode sequential"]),
                                       (["play", run, "--action-map", map.path], ["wide.json", "3 values", "2-D"])] {
            _ = try assertCommandFailsWithOneLine(arguments, mentions: fragments)
        }
    }
}
