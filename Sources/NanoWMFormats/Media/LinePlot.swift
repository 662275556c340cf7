import CVideoShim
import Foundation

/// A line chart rendered to an image with OpenCV's drawing (anti-aliased lines, the Hershey
/// simplex font): named series over a shared x axis, with axes, ticks, a title and a legend,
/// for plots such as per-frame error over a rollout.
public struct LinePlot {
    public struct Series {
        public var name: String
        public var values: [Double]
        public var color: (UInt8, UInt8, UInt8)
        public init(name: String, values: [Double], color: (UInt8, UInt8, UInt8)) {
            self.name = name
            self.values = values
            self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// x value of the first point (e.g. the first generated frame).
    public var xStart = 0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    public func render(width: Int = 640, height: Int = 400) throws -> RGBImage {
        var canvas = Canvas(image: try RGBImage(width: width, height: height, filling: (255, 255, 255)))
        let (left, right, top, bottom) = (70, 20, 44, 50)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let finite = series.flatMap(\.values).filter(\.isFinite)
        var (low, high) = (finite.min() ?? 0, finite.max() ?? 1)
        if high - low < 1e-9 { (low, high) = (low - 1, high + 1) }
        let margin = (high - low) * 0.05
        (low, high) = (low - margin, high + margin)
        let count = Swift.max(series.map(\.values.count).max() ?? 1, 2)
        func px(_ i: Int) -> Int { left + i * plotWidth / (count - 1) }
        func py(_ v: Double) -> Int { top + Int((1 - (v - low) / (high - low)) * Double(plotHeight)) }
        let ink: (UInt8, UInt8, UInt8) = (30, 30, 30), grid: (UInt8, UInt8, UInt8) = (225, 225, 225)
        let small = 0.42, label = 0.5

        // Grid, axes and tick labels.
        for tick in 0...4 {
            let value = low + (high - low) * Double(tick) / 4, y = py(value)
            try canvas.line(left, y, left + plotWidth, y, grid)
            let text = String(format: abs(value) >= 100 ? "%.0f" : "%.2f", value)
            try canvas.text(text, x: left - 8 - Canvas.size(text, scale: small).width, y: y + 5, scale: small, ink)
        }
        let xStep = Swift.max(1, (count - 1) / 8)
        for i in stride(from: 0, to: count, by: xStep) {
            try canvas.line(px(i), top + plotHeight, px(i), top + plotHeight + 4, ink)
            let text = String(i + xStart)
            try canvas.text(text, x: px(i) - Canvas.size(text, scale: small).width / 2, y: top + plotHeight + 20, scale: small, ink)
        }
        try canvas.line(left, top, left, top + plotHeight, ink)
        try canvas.line(left, top + plotHeight, left + plotWidth, top + plotHeight, ink)
        try canvas.text(title, x: (width - Canvas.size(title, scale: 0.7, thickness: 2).width) / 2, y: 26, scale: 0.7, ink, thickness: 2)
        try canvas.text(xLabel, x: left + (plotWidth - Canvas.size(xLabel, scale: label).width) / 2, y: height - 10, scale: label, ink)
        try canvas.text(yLabel, x: 6, y: top - 8, scale: label, ink)

        // Series, then the legend.
        for s in series {
            let points = s.values.enumerated().filter { $0.element.isFinite }.map { (px($0.offset), py($0.element)) }
            for (a, b) in zip(points, points.dropFirst()) { try canvas.line(a.0, a.1, b.0, b.1, s.color, thickness: 2) }
            for p in points { try canvas.rectangle(x: p.0 - 2, y: p.1 - 2, width: 5, height: 5, s.color) }
        }
        for (i, s) in series.enumerated() {
            let y = top + 8 + i * 18, x = left + plotWidth - 190
            try canvas.rectangle(x: x, y: y, width: 14, height: 9, s.color)
            try canvas.text(s.name, x: x + 20, y: y + 9, scale: small, ink)
        }
        return canvas.image
    }
}

/// An image drawn on through OpenCV.
struct Canvas {
    var image: RGBImage

    static func size(_ text: String, scale: Double, thickness: Int = 1) -> (width: Int, above: Int) {
        var width: Int32 = 0, above: Int32 = 0
        cvideo_text_size(text, scale, Int32(thickness), &width, &above)
        return (Int(width), Int(above))
    }

    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: (UInt8, UInt8, UInt8), thickness: Int = 1) throws {
        try draw("a line") { pixels, width, height, error in
            cvideo_draw_line(pixels, width, height, Int32(x0), Int32(y0), Int32(x1), Int32(y1), color.0, color.1, color.2,
                             Int32(thickness), error, 512)
        }
    }

    mutating func rectangle(x: Int, y: Int, width: Int, height: Int, _ color: (UInt8, UInt8, UInt8)) throws {
        try draw("a rectangle") { pixels, imageWidth, imageHeight, error in
            cvideo_fill_rect(pixels, imageWidth, imageHeight, Int32(x), Int32(y), Int32(width), Int32(height),
                             color.0, color.1, color.2, error, 512)
        }
    }

    /// `text` with its baseline starting at (x, y).
    mutating func text(_ text: String, x: Int, y: Int, scale: Double, _ color: (UInt8, UInt8, UInt8), thickness: Int = 1) throws {
        try draw("text") { pixels, width, height, error in
            cvideo_draw_text(pixels, width, height, text, Int32(x), Int32(y), scale, color.0, color.1, color.2,
                             Int32(thickness), error, 512)
        }
    }

    private mutating func draw(_ what: String, _ body: (UnsafeMutablePointer<UInt8>?, Int32, Int32, UnsafeMutablePointer<CChar>) -> Int32) throws {
        var error = [CChar](repeating: 0, count: 512)
        let (width, height) = (Int32(image.width), Int32(image.height))
        let status = image.pixels.withUnsafeMutableBufferPointer { pixels in
            error.withUnsafeMutableBufferPointer { body(pixels.baseAddress, width, height, $0.baseAddress!) }
        }
        guard status == 0 else { throw MediaError("drawing \(what) on a \(image.width)x\(image.height) image failed: \(String(cString: error))") }
    }
}
