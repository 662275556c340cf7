import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest

/// `nanowm play` in a real browser: the binary serves its page on a free loopback port, headless
/// Chromium (through WebDriver) opens it and presses keys. Checked: actions reach the server
/// (its frames report the map's action), frames arrive and differ under different keys and
/// repeat under the same ones, a recording replays with `nanowm rollout` to the same latents,
/// a screenshot shows the frame (the wall's colours, not an error page), a second tab gets its
/// own game and closing it leaves the first playing.
final class PlayBrowserTests: XCTestCase {
    private static let arrowLeft = "\u{E012}", arrowRight = "\u{E014}"

    func testPlayInHeadlessChromium() throws {
        let scratch = try TemporaryDirectory("play-browser")
        defer { scratch.remove() }
        let train = try NanoWMExecutable.run(["train", "--run-dir", scratch.path("run")]
                                             + TinyTraining.overrides(dataDirectory: scratch.url.appendingPathComponent("data")))
        XCTAssertEqual(train.status, 0, train.error)
        let server = try ServingProcess(["play", scratch.path("run"), "--port", "0", "--steps", "2", "--seed", "5",
                                            "--recordings", scratch.path("recordings")])
        defer { server.stop() }
        let browser = try HeadlessChromium()
        defer { browser.close() }
        try browser.open(server.address)
        try browser.wait(for: "the first frames", "window.nanowm.hello && window.nanowm.frames > 3")
        let history = try XCTUnwrap(browser.evaluate("return window.nanowm.hello.history;") as? Int)

        // Keys reach the server: the frames it makes report the key's action, then rest.
        try browser.keys(down: [Self.arrowRight])
        try browser.wait(for: "a frame made with ArrowRight", "window.nanowm.lastAction && window.nanowm.lastAction[0] > 0")
        try browser.keys(up: [Self.arrowRight])
        try browser.wait(for: "a frame made with no key", "window.nanowm.lastAction && window.nanowm.lastAction[0] === 0")

        // Paused, one frame per "step once"; after a reset the same keys give the same frames.
        // Frames made before the server read "pause" may still arrive; once they stop, none
        // may come for a whole second.
        try browser.click(id: "pause")
        func frames() throws -> Int { try XCTUnwrap(browser.evaluate("return window.nanowm.frames;") as? Int) }
        var settled = try frames()
        let quiet = Date().addingTimeInterval(10)
        repeat {
            usleep(300_000)
            let now = try frames()
            if now == settled { break }
            settled = now
        } while Date() < quiet
        usleep(1_000_000)
        XCTAssertEqual(try frames(), settled, "frames kept coming while paused")
        func play(_ key: String, steps: Int = 3) throws -> String {
            let count = try XCTUnwrap(browser.evaluate("return window.nanowm.frames;") as? Int)
            try browser.click(id: "reset")
            try browser.wait(for: "the context after reset", "window.nanowm.frames === \(count + history)")
            try browser.keys(down: [key])
            for step in stride(from: 1, through: steps, by: 1) {
                try browser.click(id: "step")
                try browser.wait(for: "step \(step)", "window.nanowm.lastIndex === \(history - 1 + step)")
            }
            try browser.keys(up: [key])
            return try XCTUnwrap(browser.evaluate("return window.nanowm.lastFrame;") as? String)
        }
        let right = try play(Self.arrowRight), left = try play(Self.arrowLeft), rightAgain = try play(Self.arrowRight)
        XCTAssertEqual(right, rightAgain, "the same start and keys must give the same frames")
        XCTAssertNotEqual(right, left, "ArrowRight and ArrowLeft gave the same frame")

        // A recording from the start replays with the command the page prints.
        _ = try play(Self.arrowRight, steps: 0)
        try browser.click(id: "record")
        try browser.wait(for: "the recording to start", "window.nanowm.recording")
        try browser.keys(down: [Self.arrowRight])
        for step in 1...3 {
            try browser.click(id: "step")
            try browser.wait(for: "recorded step \(step)", "window.nanowm.lastIndex === \(history - 1 + step)")
        }
        try browser.keys(up: [Self.arrowRight])
        try browser.click(id: "record")
        try browser.wait(for: "the recording's files", "window.nanowm.recorded.length === 1")
        let recorded = try XCTUnwrap(browser.evaluate("return window.nanowm.recorded[0];") as? [String: Any])
        var arguments = try XCTUnwrap(recorded["replay"] as? String).split(separator: " ").map(String.init).dropFirst().map { $0 }
        let output = try XCTUnwrap(arguments.firstIndex(of: "--output")) + 1
        arguments[output] = scratch.path("replay.safetensors")
        let replay = try NanoWMExecutable.run(arguments)
        XCTAssertEqual(replay.status, 0, replay.error)
        let clip = try XCTUnwrap(recorded["clip"] as? String)
        try assertExactlyEqual(try XCTUnwrap(SafeTensors.read(scratch.path("replay.safetensors")).tensors["samples"]),
                               try XCTUnwrap(SafeTensors.read(clip).tensors["samples"]), "the replay of the browser's recording")
        XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(recorded["video"] as? String)))

        // The screenshot shows the frame: much of the 384² model image is the wall's room colour.
        let screenshot = scratch.url.appendingPathComponent("screenshot.png")
        try browser.screenshot().write(to: screenshot)
        let look = try PyTorchBaseline.shared.run("""
        import cv2, numpy as np
        image = cv2.imread(\(pythonString(screenshot.path)))[:, :, ::-1].astype(np.int64)
        room = (np.abs(image - np.array([235, 235, 225])).max(axis=2) <= 12).mean()
        O['room'] = torch.tensor(float(room))
        O['colours'] = torch.tensor(len(np.unique(image.reshape(-1, 3), axis=0)))
        """)
        let room = try XCTUnwrap(look["room"]).item(Double.self), colours = try XCTUnwrap(look["colours"]).item(Int.self)
        XCTAssertGreaterThan(room, 0.05, "the screenshot shows little of the wall's room (\(room) of its pixels)")
        XCTAssertGreaterThan(colours, 20)

        // A second tab plays its own game; closing it leaves the first one playing.
        let first = try browser.currentTab()
        _ = try browser.newTab()
        try browser.open(server.address)
        try browser.wait(for: "the second tab's frames", "window.nanowm.hello && window.nanowm.hello.session === 1 && window.nanowm.frames > 3")
        try browser.closeTab()
        try browser.switchTo(first)
        let now = try XCTUnwrap(browser.evaluate("return window.nanowm.frames;") as? Int)
        try browser.click(id: "pause")
        try browser.wait(for: "the first tab to play on", "window.nanowm.frames > \(now + 3)")
        XCTAssertEqual(try browser.evaluate("return window.nanowm.errors.length;") as? Int, 0)
        XCTAssertTrue(server.isRunning, "the server stopped")

        // The page times its own share (arrival to screen: decode, then the next paint) and shows
        // it beside the model's.
        try browser.wait(for: "frames the page timed", "window.nanowm.pageTimed > 3")
        let pageMs = try XCTUnwrap(browser.evaluate("return window.nanowm.pageMs;") as? Double)
        XCTAssertGreaterThan(pageMs, 0)
        let stats = try XCTUnwrap(browser.evaluate("return document.getElementById('stats').textContent;") as? String)
        XCTAssertTrue(stats.contains("ms to screen"), stats)
        print(String(format: "play page: %.1f ms from a frame's arrival to its paint in headless Chromium", pageMs))
    }
}

/// `nanowm play` running in the background, with the address it printed.
