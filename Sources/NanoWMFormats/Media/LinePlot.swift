import Foundation

/// A line chart rendered to an image: named series over a shared x axis, with axes, ticks,
/// a title and a legend, for plots such as per-frame error over a rollout.
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
        var image = try RGBImage(width: width, height: height, filling: (255, 255, 255))
        let (left, right, top, bottom) = (70, 20, 40, 50)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let finite = series.flatMap(\.values).filter(\.isFinite)
        var (low, high) = (finite.min() ?? 0, finite.max() ?? 1)
        if high - low < 1e-9 { (low, high) = (low - 1, high + 1) }
        let margin = (high - low) * 0.05
        (low, high) = (low - margin, high + margin)
        let count = Swift.max(series.map(\.values.count).max() ?? 1, 2)
        func px(_ i: Int) -> Int { left + i * plotWidth / (count - 1) }
        func py(_ v: Double) -> Int { top + Int((1 - (v - low) / (high - low)) * Double(plotHeight)) }

        // Axes, grid and tick labels.
        for tick in 0...4 {
            let value = low + (high - low) * Double(tick) / 4, y = py(value)
            line(&image, left, y, left + plotWidth, y, (225, 225, 225))
            let label = String(format: abs(value) >= 100 ? "%.0f" : "%.2f", value)
            PixelFont.draw(label, into: &image, x: left - 8 - PixelFont.width(of: label), y: y - 5)
        }
        let xStep = Swift.max(1, (count - 1) / 8)
        for i in stride(from: 0, to: count, by: xStep) {
            line(&image, px(i), top + plotHeight, px(i), top + plotHeight + 4, (30, 30, 30))
            let label = String(i + xStart)
            PixelFont.draw(label, into: &image, x: px(i) - PixelFont.width(of: label) / 2, y: top + plotHeight + 8)
        }
        line(&image, left, top, left, top + plotHeight, (30, 30, 30))
        line(&image, left, top + plotHeight, left + plotWidth, top + plotHeight, (30, 30, 30))
        PixelFont.draw(title, into: &image, x: (width - PixelFont.width(of: title, scale: 3)) / 2, y: 8, scale: 3)
        PixelFont.draw(xLabel, into: &image, x: left + (plotWidth - PixelFont.width(of: xLabel)) / 2, y: height - 20)
        PixelFont.draw(yLabel, into: &image, x: 6, y: top - 14)

        // Series, then the legend.
        for s in series {
            let points = s.values.enumerated().filter { $0.element.isFinite }.map { (px($0.offset), py($0.element)) }
            for (a, b) in zip(points, points.dropFirst()) { thickLine(&image, a.0, a.1, b.0, b.1, s.color) }
            for p in points { dot(&image, p.0, p.1, s.color) }
        }
        for (i, s) in series.enumerated() {
            let y = top + 8 + i * 16, x = left + plotWidth - 180
            for dy in 0..<8 { line(&image, x, y + dy, x + 14, y + dy, s.color) }
            PixelFont.draw(s.name, into: &image, x: x + 20, y: y - 1)
        }
        return image
    }

    private func line(_ image: inout RGBImage, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: (UInt8, UInt8, UInt8)) {
        let steps = Swift.max(abs(x1 - x0), abs(y1 - y0), 1)
        for s in 0...steps {
            let x = x0 + (x1 - x0) * s / steps, y = y0 + (y1 - y0) * s / steps
            if x >= 0, y >= 0, x < image.width, y < image.height { image[x, y] = color }
        }
    }

    private func thickLine(_ image: inout RGBImage, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: (UInt8, UInt8, UInt8)) {
        for d in -1...1 { line(&image, x0, y0 + d, x1, y1 + d, color) }
    }

    private func dot(_ image: inout RGBImage, _ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
        for dy in -2...2 { line(&image, x - 2, y + dy, x + 2, y + dy, color) }
    }
}
