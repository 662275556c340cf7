import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// `nanowm view` in headless Chromium: the reference's viewer file of a 3-frame prediction
/// (Tests/Fixtures/geometry) drawn with WebGL, every frame's points at once and one at a time
/// (the counts the reference's unprojection keeps), and a screenshot that shows coloured points
/// over the background, not an empty canvas.
final class ViewerBrowserTests: XCTestCase {
    private static let fixtures = PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures/geometry")

    func testViewerDrawsThePointsInHeadlessChromium() throws {
        let scratch = try TemporaryDirectory("viewer-browser")
        defer { scratch.remove() }
        let counts = try NumpyArchive.read(Self.fixtures.appendingPathComponent("pointcloud_all.npz").path)["per_frame_counts"]!
            .toArray(Int64.self).map(Int.init)
        let server = try ServingProcess(["view", Self.fixtures.appendingPathComponent("pointcloud_all_viewer.npz").path, "--port", "0"])
        defer { server.stop() }
        let browser = try HeadlessChromium()
        defer { browser.close() }
        try browser.open(server.address)
        try browser.wait(for: "the scene", "window.nanowm.ready || window.nanowm.error")
        XCTAssertNil(try browser.evaluate("return window.nanowm.error || null;") as? String)
        XCTAssertEqual(try browser.evaluate("return window.nanowm.count;") as? Int, counts.reduce(0, +))
        XCTAssertEqual(try browser.evaluate("return window.nanowm.frames;") as? Int, 3)
        for (frame, count) in counts.enumerated() {
            XCTAssertEqual(try browser.evaluate("return window.nanowm.setFrame(\(frame));") as? Int, count, "frame \(frame)")
        }
        XCTAssertEqual(try browser.evaluate("return window.nanowm.setFrame(3);") as? Int, counts.reduce(0, +), "all frames")
        let screenshot = scratch.url.appendingPathComponent("viewer.png")
        try browser.screenshot().write(to: screenshot)
        let look = try PyTorchBaseline.shared.run("""
        import cv2, numpy as np
        image = cv2.imread(\(pythonString(screenshot.path)))[:, :, ::-1].astype(np.int64)
        background = np.array([16, 18, 22])
        drawn = np.abs(image - background).sum(axis=2) > 30
        O['drawn'] = torch.tensor(int(drawn.sum()))
        O['colours'] = torch.tensor(len(np.unique(image[drawn] // 32, axis=0)))
        """)
        let drawn = try XCTUnwrap(look["drawn"]).item(Int.self), colours = try XCTUnwrap(look["colours"]).item(Int.self)
        print("viewer screenshot: \(drawn) pixels drawn in \(colours) colour bins")
        XCTAssertGreaterThan(drawn, 2000, "the canvas shows too few points")
        XCTAssertGreaterThan(colours, 20, "the points are not in their many colours")
    }
}
