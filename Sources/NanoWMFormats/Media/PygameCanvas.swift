import Foundation

/// A software canvas that draws pixels exactly where pygame 2.6's `pygame.draw` does (the
/// scanline polygon fill, the midpoint filled circle, Bresenham lines grown to a width, and
/// Xiaolin Wu anti-aliased lines blended in float32), so scenes upstream draws with pygame
/// (PushT) come out with the same pixels. Written from the algorithms' behaviour; the clip
/// rectangle is always the whole canvas.
public struct PygameCanvas: Sendable {
    public typealias Color = (r: UInt8, g: UInt8, b: UInt8)
    public let width: Int
    public let height: Int
    /// `height * width * 3` bytes, row-major RGB.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, fill: Color = (255, 255, 255)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = fill.r; pixels[i + 1] = fill.g; pixels[i + 2] = fill.b
        }
    }

    public func image() throws -> RGBImage { try RGBImage(width: width, height: height, pixels: pixels) }

    private func inside(_ x: Int, _ y: Int) -> Bool { x >= 0 && x < width && y >= 0 && y < height }

    private mutating func set(_ x: Int, _ y: Int, _ color: Color) {
        guard inside(x, y) else { return }
        let i = (y * width + x) * 3
        pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b
    }

    private func get(_ x: Int, _ y: Int) -> Color {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// A horizontal run from x1 to x2 (either order) on row y, clipped.
    private mutating func horizontalLine(_ x1: Int, _ y: Int, _ x2: Int, _ color: Color) {
        guard y >= 0, y < height else { return }
        let lo = max(min(x1, x2), 0), hi = min(max(x1, x2), width - 1)
        guard hi >= 0, lo < width, lo <= hi else { return }
        for x in lo...hi { set(x, y, color) }
    }

    // MARK: pygame.draw.polygon (width 0)

    /// Fills a polygon given by integer vertices, scanning rows from the top vertex to the bottom one.
    public mutating func fillPolygon(_ points: [(x: Int, y: Int)], color: Color) {
        guard points.count >= 3 else { return }
        let ys = points.map(\.y), xs = points.map(\.x)
        let minY = ys.min()!, maxY = ys.max()!
        if minY == maxY {
            horizontalLine(xs.min()!, minY, xs.max()!, color)
            return
        }
        let n = points.count
        for y in minY...maxY {
            var crossings: [Int] = []
            for i in 0..<n {
                let previous = i == 0 ? n - 1 : i - 1
                var (x1, y1, x2, y2) = (Double(xs[previous]), Double(ys[previous]), Double(xs[i]), Double(ys[i]))
                if y1 > y2 { swap(&x1, &x2); swap(&y1, &y2) } else if y1 == y2 { continue }
                let row = Double(y)
                if (row >= y1 && row < y2) || (y == maxY && y2 == Double(maxY)) {
                    crossings.append(Int((row - y1) * (x2 - x1) / (y2 - y1) + x1))
                }
            }
            crossings.sort()
            var k = 0
            while k + 1 < crossings.count {
                horizontalLine(crossings[k], y, crossings[k + 1], color)
                k += 2
            }
        }
        // Horizontal edges strictly between the top and bottom rows that the scan leaves out.
        for i in 0..<n {
            let previous = i == 0 ? n - 1 : i - 1
            if minY < ys[i], ys[previous] == ys[i], ys[i] < maxY { horizontalLine(xs[i], ys[i], xs[previous], color) }
        }
    }

    // MARK: pygame.draw.circle (width 0)

    /// A filled circle of integer centre and radius (nothing for a radius below 1).
    public mutating func fillCircle(center: (x: Int, y: Int), radius: Int, color: Color) {
        guard radius >= 1 else { return }
        let (x0, y0) = center
        if x0 > width + radius || x0 < -radius || y0 > height + radius || y0 < -radius { return }
        var f = 1 - radius, ddFx = 0, ddFy = -2 * radius, x = 0, y = radius
        while x < y {
            if f >= 0 {
                y -= 1
                ddFy += 2
                f += ddFy
            }
            x += 1
            ddFx += 2
            f += ddFx + 1
            if f >= 0 {
                horizontalLine(x0 - x, y0 + y - 1, x0 + x - 1, color)
                horizontalLine(x0 - x, y0 - y, x0 + x - 1, color)
            }
            horizontalLine(x0 - y, y0 + x - 1, x0 + y - 1, color)
            horizontalLine(x0 - y, y0 - x, x0 + y - 1, color)
        }
    }

    // MARK: pygame.draw.lines

    /// An open polyline through integer points, `width` pixels wide (pygame grows the width
    /// sideways for mostly vertical segments and up/down for mostly horizontal ones).
    public mutating func lines(_ points: [(x: Int, y: Int)], width lineWidth: Int, color: Color) {
        guard lineWidth >= 1, points.count >= 2 else { return }
        for i in 1..<points.count { wideLine(points[i - 1], points[i], lineWidth, color) }
    }

    /// Liang–Barsky clipping to the canvas, rounding the clipped ends half away from zero.
    private func clip(_ a: inout (x: Int, y: Int), _ b: inout (x: Int, y: Int)) -> Bool {
        let p1 = a.x - b.x, p2 = -p1, p3 = a.y - b.y, p4 = -p3
        let q1 = a.x, q2 = width - a.x, q3 = a.y, q4 = height - a.y
        if (p1 == 0 && q1 < 0) || (p2 == 0 && q2 < 0) || (p3 == 0 && q3 < 0) || (p4 == 0 && q4 < 0) { return false }
        var nmax = 0.0, pmin = 1.0
        for (p, qa, qb) in [(p1, q1, q2), (p3, q3, q4)] where p != 0 {
            let r1 = Double(qa) / Double(p), r2 = Double(qb) / Double(-p)
            if p < 0 {
                nmax = max(nmax, r1); pmin = min(pmin, r2)
            } else {
                nmax = max(nmax, r2); pmin = min(pmin, r1)
            }
        }
        if nmax > pmin { return false }
        func away(_ v: Double) -> Int { Int(v < 0 ? v - 0.5 : v + 0.5) }
        let origin = a
        a = (origin.x + away(Double(p2) * nmax), origin.y + away(Double(p4) * nmax))
        b = (origin.x + away(Double(p2) * pmin), origin.y + away(Double(p4) * pmin))
        return true
    }

    private mutating func wideLine(_ from: (x: Int, y: Int), _ to: (x: Int, y: Int), _ lineWidth: Int, _ color: Color) {
        var a = from, b = to
        let endX = b.x, endY = b.y
        let growX = abs(a.x - b.x) <= abs(a.y - b.y)
        let dx = abs(b.x - a.x), sx = a.x < b.x ? 1 : -1
        let dy = abs(b.y - a.y), sy = a.y < b.y ? 1 : -1
        var err = (dx > dy ? dx : -dy) / 2
        guard clip(&a, &b) else { return }
        if lineWidth == 1 { return thinLine(a, b, color) }
        func sign(_ v: Int, _ otherwise: Int) -> Int { v > 0 ? 1 : (v < 0 ? -1 : otherwise) }
        var low = (growX ? a.x : a.y) - (lineWidth - 1) / 2
        var high = (growX ? a.x : a.y) + lineWidth / 2
        var x = a.x, y = a.y
        func paint(_ canvas: inout PygameCanvas) {
            if growX { canvas.horizontalLine(low, y, high, color) } else { for row in low...high { canvas.set(x, row, color) } }
        }
        while sign(x - b.x, sx) != sx || sign(y - b.y, sy) != sy {
            paint(&self)
            let e2 = err
            if e2 > -dx { err -= dy; x += sx; if growX { low += sx; high += sx } }
            if e2 < dy { err += dx; y += sy; if !growX { low += sy; high += sy } }
        }
        // Past the clipped end, continue while the stroke still touches the canvas.
        if growX {
            while y != endY && (inside(low, y) || inside(high, y)) {
                paint(&self)
                let e2 = err
                if e2 > -dx { err -= dy; x += sx; low += sx; high += sx }
                if e2 < dy { err += dx; y += sy }
            }
        } else {
            while x != endX && (inside(x, low) || inside(x, high)) {
                paint(&self)
                let e2 = err
                if e2 > -dx { err -= dy; x += sx }
                if e2 < dy { err += dx; y += sy; low += sy; high += sy }
            }
        }
        paint(&self)
    }

    private mutating func thinLine(_ a: (x: Int, y: Int), _ b: (x: Int, y: Int), _ color: Color) {
        var (x, y) = a
        let dx = abs(b.x - a.x), sx = a.x < b.x ? 1 : -1
        let dy = abs(b.y - a.y), sy = a.y < b.y ? 1 : -1
        var err = (dx > dy ? dx : -dy) / 2
        while x != b.x || y != b.y {
            set(x, y, color)
            let e2 = err
            if e2 > -dx { err -= dy; x += sx }
            if e2 < dy { err += dx; y += sy }
        }
        set(b.x, b.y, color)
    }

    // MARK: pygame.draw.aalines (blend on)

    /// An open anti-aliased polyline through float points.
    public mutating func antialiasedLines(_ points: [(x: Float, y: Float)], color: Color) {
        guard points.count >= 2 else { return }
        for i in 1..<points.count { antialiasedLine(points[i - 1], points[i], color) }
    }

    /// Blends `color` over the pixel with `brightness` in float32, truncating like pygame.
    private mutating func blend(_ x: Int, _ y: Int, _ color: Color, _ brightness: Float) {
        guard inside(x, y) else { return }
        let old = get(x, y)
        // Clamped where C's cast would be undefined (never reached by in-range brightness).
        func mix(_ c: UInt8, _ o: UInt8) -> UInt8 { UInt8(max(0, min(255, brightness * Float(c) + (1 - brightness) * Float(o)))) }
        set(x, y, (mix(color.r, old.r), mix(color.g, old.g), mix(color.b, old.b)))
    }

    private mutating func antialiasedLine(_ from: (x: Float, y: Float), _ to: (x: Float, y: Float), _ color: Color) {
        var (fromX, fromY, toX, toY) = (from.x, from.y, to.x, to.y)
        var dx = toX - fromX, dy = toY - fromY
        if abs(dx) < 0.0001 && abs(dy) < 0.0001 {
            let x = Int((Double(fromX) + 0.5).rounded(.down)), y = Int((Double(fromY) + 0.5).rounded(.down))
            blend(x, y, color, 1)
            return
        }
        var clipLeft: Float = -1, clipRight = clipLeft + Float(width) + 1
        var clipTop: Float = -1, clipBottom = clipTop + Float(height) + 1
        let steep = abs(dx) < abs(dy)
        if steep {
            swap(&fromX, &fromY); swap(&toX, &toY); swap(&dx, &dy)
            swap(&clipLeft, &clipTop); swap(&clipRight, &clipBottom)
        }
        if dx < 0 {
            swap(&fromX, &toX); swap(&fromY, &toY)
            dx = -dx; dy = -dy
        }
        if toX <= clipLeft || fromX >= clipRight { return }
        let gradient = dy / dx
        if fromX < clipLeft { fromY += gradient * (clipLeft - fromX); fromX = clipLeft }
        if toX > clipRight { toY += gradient * (clipRight - toX); toX = clipRight }
        if gradient > 0 {
            if toY <= clipTop || fromY >= clipBottom { return }
            if fromY < clipTop { fromX += (clipTop - fromY) / gradient; fromY = clipTop }
            if toY > clipBottom { toX += (clipBottom - toY) / gradient; toY = clipBottom }
        } else {
            if fromY <= clipTop || toY >= clipBottom { return }
            if toY < clipTop { toX += (clipTop - toY) / gradient; toY = clipTop }
            if fromY > clipBottom { fromX += (clipBottom - fromY) / gradient; fromY = clipBottom }
        }
        // Shifted down one row so truncation rounds down; drawn one row higher.
        fromY += 1
        toY += 1
        func plot(_ along: Int, _ across: Int, _ brightness: Float) {
            if steep { blend(across, along, color, brightness) } else { blend(along, across, color, brightness) }
        }
        var start = Int(fromX)
        var intersect = fromY + gradient * (Float(start) - fromX)
        if toX > clipLeft + 1 {
            let yEnd = intersect
            let gap = 1 + Float(start) - fromX
            let brightness = yEnd - Float(Int(yEnd))
            if Float(Int(yEnd)) < yEnd { plot(start, Int(yEnd), brightness * gap) }
            plot(start, Int(yEnd) - 1, (1 - brightness) * gap)
            intersect += gradient
            start += 1
        }
        let end = Int(toX.rounded(.up))
        if fromX < clipRight - 1 {
            let yEnd = toY + gradient * (Float(end) - toX)
            let gap = 1 - Float(end) + toX
            let brightness = yEnd - Float(Int(yEnd))
            if Float(Int(yEnd)) < yEnd { plot(end, Int(yEnd), brightness * gap) }
            plot(end, Int(yEnd) - 1, (1 - brightness) * gap)
        }
        var along = start
        while along < end {
            let across = Int(intersect)
            let brightness = 1 - intersect + Float(across)
            plot(along, across - 1, brightness)
            if Float(across) < intersect { plot(along, across, 1 - brightness) }
            intersect += gradient
            along += 1
        }
    }
}
