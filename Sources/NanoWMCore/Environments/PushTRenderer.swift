import CChipmunk
import Foundation
import NanoWMFormats

/// Draws a PushT scene the way upstream's `_render_frame` does: a white 512² pygame canvas, the
/// goal zone (the block's polygons at the goal pose, filled light green), then Chipmunk's own
/// debug draw (`cpSpaceDebugDraw`, as pymunk's `space.debug_draw` calls it) through upstream's
/// `DrawOptions` callbacks drawn with pygame's rasterizer (`PygameCanvas`): walls as fat
/// segments, the agent as a disc with a lighter inner disc, the block as a lighter fill with
/// 4-pixel outlines, and contact points as short anti-aliased red lines; finally the canvas is
/// resized by OpenCV's bilinear `resize`, as upstream's `cv2.resize` does.
enum PushTRenderer {
    static let canvasSize = 512

    /// pygame's named colours upstream uses.
    static let wallColor = cpSpaceDebugColor(r: 211, g: 211, b: 211, a: 255)  // LightGray
    static let agentColor = cpSpaceDebugColor(r: 65, g: 105, b: 225, a: 255)  // RoyalBlue
    static let blockColor = cpSpaceDebugColor(r: 119, g: 136, b: 153, a: 255)  // LightSlateGray
    static let goalColor: PygameCanvas.Color = (144, 238, 144)  // LightGreen
    static let noGoalColor: PygameCanvas.Color = (255, 255, 255)  // `with_target=False` draws it white

    static func render(_ scene: PushTScene, goalPose: (x: Double, y: Double, angle: Double), withTarget: Bool,
                       size: Int) throws -> RGBImage {
        let recorder = Recorder(canvas: PygameCanvas(width: canvasSize, height: canvasSize))
        drawGoal(scene, pose: goalPose, color: withTarget ? goalColor : noGoalColor, on: &recorder.canvas)
        var options = debugDrawOptions(recorder)
        cpSpaceDebugDraw(scene.space, &options)
        let full = try recorder.canvas.image()
        return size == canvasSize ? full : try full.resized(width: size, height: size)
    }

    /// The goal zone: upstream builds a body at the goal pose and maps the block's local vertices
    /// through it (`local_to_world`), rounding each to pixels.
    private static func drawGoal(_ scene: PushTScene, pose: (x: Double, y: Double, angle: Double),
                                 color: PygameCanvas.Color, on canvas: inout PygameCanvas) {
        let goal = cpBodyNew(1, cpMomentForBox(1, 50, 100))!
        defer { cpBodyFree(goal) }
        cpBodySetPosition(goal, cpVect(x: pose.x, y: pose.y))
        cpBodySetAngle(goal, pose.angle)
        for polygon in scene.blockLocalPolygons {
            var points = polygon.map { pixel(cpBodyLocalToWorld(goal, $0)) }
            points.append(points[0])
            canvas.fillPolygon(points, color: color)
        }
    }

    /// pymunk's `to_pygame`: Python's `round` (half to even) of each coordinate.
    static func pixel(_ v: cpVect) -> (x: Int, y: Int) {
        (Int(v.x.rounded(.toNearestOrEven)), Int(v.y.rounded(.toNearestOrEven)))
    }

    /// `SpaceDebugColor.as_int()`: each channel rounded half to even.
    static func bytes(_ c: cpSpaceDebugColor) -> PygameCanvas.Color {
        func channel(_ v: Float) -> UInt8 { UInt8(max(0, min(255, v.rounded(.toNearestOrEven)))) }
        return (channel(c.r), channel(c.g), channel(c.b))
    }

    /// Upstream's `light_color`: 1.2 × the colour in float32, capped at 255.
    static func light(_ c: cpSpaceDebugColor) -> cpSpaceDebugColor {
        let scale = Float(1.2)
        return cpSpaceDebugColor(r: min(scale * c.r, 255), g: min(scale * c.g, 255), b: min(scale * c.b, 255),
                                 a: min(scale * c.a, 255))
    }

    final class Recorder {
        var canvas: PygameCanvas
        init(canvas: PygameCanvas) { self.canvas = canvas }

        /// Upstream's `draw_fat_segment`: a `round(2r)`-pixel line, and when thicker than 2 a
        /// quadrilateral offset by the (absolute-valued) normal plus round caps.
        func fatSegment(_ a: cpVect, _ b: cpVect, radius: Double, color fill: cpSpaceDebugColor) {
            let p1 = PushTRenderer.pixel(a), p2 = PushTRenderer.pixel(b)
            let color = PushTRenderer.bytes(fill)
            let lineWidth = Int(max(1, radius * 2).rounded(.toNearestOrEven))
            canvas.lines([p1, p2], width: lineWidth, color: color)
            guard lineWidth > 2 else { return }
            var normal = (x: abs(p2.y - p1.y), y: abs(p2.x - p1.x))
            if normal.x == 0 && normal.y == 0 { return }
            let scale = radius / pow(Double(normal.x * normal.x + normal.y * normal.y), 0.5)
            normal = (Int((Double(normal.x) * scale).rounded(.toNearestOrEven)),
                      Int((Double(normal.y) * scale).rounded(.toNearestOrEven)))
            canvas.fillPolygon([(p1.x - normal.x, p1.y - normal.y), (p1.x + normal.x, p1.y + normal.y),
                                (p2.x + normal.x, p2.y + normal.y), (p2.x - normal.x, p2.y - normal.y)], color: color)
            let capRadius = Int(radius.rounded(.toNearestOrEven))
            canvas.fillCircle(center: p1, radius: capRadius, color: color)
            canvas.fillCircle(center: p2, radius: capRadius, color: color)
        }
    }

    private static func recorder(_ data: UnsafeMutableRawPointer?) -> Recorder {
        Unmanaged<Recorder>.fromOpaque(data!).takeUnretainedValue()
    }

    /// Chipmunk's debug-draw options wired to upstream's `DrawOptions` behaviour. The recorder
    /// must outlive the `cpSpaceDebugDraw` call (the caller holds it).
    private static func debugDrawOptions(_ recorder: Recorder) -> cpSpaceDebugDrawOptions {
        let flags = CP_SPACE_DEBUG_DRAW_SHAPES.rawValue | CP_SPACE_DEBUG_DRAW_CONSTRAINTS.rawValue
            | CP_SPACE_DEBUG_DRAW_COLLISION_POINTS.rawValue
        return cpSpaceDebugDrawOptions(
            drawCircle: { position, _, radius, _, fill, data in
                let r = PushTRenderer.recorder(data), center = PushTRenderer.pixel(position)
                r.canvas.fillCircle(center: center, radius: Int(radius.rounded(.toNearestOrEven)), color: PushTRenderer.bytes(fill))
                r.canvas.fillCircle(center: center, radius: Int((radius - 4).rounded(.toNearestOrEven)),
                                    color: PushTRenderer.bytes(PushTRenderer.light(fill)))
            },
            drawSegment: { a, b, color, data in
                // pymunk skips segments with a NaN end.
                if a.x.isNaN || a.y.isNaN || b.x.isNaN || b.y.isNaN { return }
                let p1 = PushTRenderer.pixel(a), p2 = PushTRenderer.pixel(b)
                PushTRenderer.recorder(data).canvas.antialiasedLines(
                    [(Float(p1.x), Float(p1.y)), (Float(p2.x), Float(p2.y))], color: PushTRenderer.bytes(color))
            },
            drawFatSegment: { a, b, radius, _, fill, data in
                PushTRenderer.recorder(data).fatSegment(a, b, radius: radius, color: fill)
            },
            drawPolygon: { count, vertices, _, _, fill, data in
                let r = PushTRenderer.recorder(data)
                let corners = (0..<Int(count)).map { vertices![$0] }
                var points = corners.map(PushTRenderer.pixel)
                points.append(points[0])
                r.canvas.fillPolygon(points, color: PushTRenderer.bytes(PushTRenderer.light(fill)))
                // Upstream outlines every polygon with radius 2 whatever Chipmunk passes.
                for i in corners.indices {
                    r.fatSegment(corners[i], corners[(i + 1) % corners.count], radius: 2, color: fill)
                }
            },
            drawDot: { size, position, color, data in
                PushTRenderer.recorder(data).canvas.fillCircle(
                    center: PushTRenderer.pixel(position), radius: Int(size.rounded(.toNearestOrEven)),
                    color: PushTRenderer.bytes(color))
            },
            flags: cpSpaceDebugDrawFlags(rawValue: flags),
            shapeOutlineColor: cpSpaceDebugColor(r: 44, g: 62, b: 80, a: 255),
            colorForShape: { shape, _ in
                switch PushTScene.Paint(rawValue: Int(bitPattern: cpShapeGetUserData(shape))) {
                case .wall: return PushTRenderer.wallColor
                case .agent: return PushTRenderer.agentColor
                default: return PushTRenderer.blockColor
                }
            },
            constraintColor: cpSpaceDebugColor(r: 142, g: 68, b: 173, a: 255),
            collisionPointColor: cpSpaceDebugColor(r: 231, g: 76, b: 60, a: 255),
            data: Unmanaged.passUnretained(recorder).toOpaque())
    }
}
