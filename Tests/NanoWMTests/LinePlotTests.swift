import Foundation
import TestSupport
import XCTest
@testable import NanoWMFormats

/// The line plot draws through OpenCV: its text, axes and series land where the layout puts them.
final class LinePlotTests: XCTestCase {
    func testPlotDrawsTitleAxesSeriesAndLegend() throws {
        let plot = LinePlot(title: "Rollout PSNR per frame", xLabel: "frame", yLabel: "PSNR (dB)", series: [
            .init(name: "world model", values: [30, 28, 25, 24, 22, 21], color: (200, 40, 40)),
            .init(name: "copy last frame", values: [26, 22, 20, 18, 17, 16], color: (60, 90, 200)),
        ])
        let image = try plot.render(width: 640, height: 400)
        XCTAssertEqual([image.width, image.height], [640, 400])
        func count(_ rows: Range<Int>, _ columns: Range<Int>, where test: ((UInt8, UInt8, UInt8)) -> Bool) -> Int {
            rows.reduce(0) { sum, y in sum + columns.filter { test(image[$0, y]) }.count }
        }
        let dark = { (p: (UInt8, UInt8, UInt8)) in Int(p.0) + Int(p.1) + Int(p.2) < 300 }
        // The title's band, the x label's band and the y tick labels' column hold dark text.
        XCTAssertGreaterThan(count(4..<34, 150..<490, where: dark), 200, "title")
        XCTAssertGreaterThan(count(375..<400, 250..<450, where: dark), 40, "x label")
        XCTAssertGreaterThan(count(40..<350, 0..<66, where: dark), 100, "y tick labels")
        // The axes: the left one is a dark column at x = 70 the plot's height long.
        XCTAssertGreaterThan(count(44..<350, 69..<72, where: dark), 280, "y axis")
        // Each series' colour appears (lines and legend swatch), and nowhere outside the plot area.
        for color in [(UInt8(200), UInt8(40), UInt8(40)), (UInt8(60), UInt8(90), UInt8(200))] {
            let same = { (p: (UInt8, UInt8, UInt8)) in p == color }
            XCTAssertGreaterThan(count(44..<350, 70..<620, where: same), 200)
            XCTAssertEqual(count(0..<40, 0..<640, where: same), 0)
        }
        // Non-finite values are skipped, not drawn.
        let gaps = try LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "s", values: [1, .nan, 3, .infinity], color: (0, 200, 0))]).render()
        XCTAssertEqual(gaps.width, 640)
    }
}
