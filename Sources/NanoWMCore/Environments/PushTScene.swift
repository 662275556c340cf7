import CChipmunk
import Foundation

/// Upstream's PushT physics scene on Chipmunk2D (`PushTEnv._setup`): four wall segments on a
/// static body, a kinematic agent disc, and the block, created and added in upstream's order
/// with the same Chipmunk calls pymunk makes (pymunk 6.2.1 wraps Chipmunk 7.0.3; no space
/// setting is changed besides zero gravity and zero damping, as upstream does). The same calls
/// in the same order give the same shape ids, contact order and therefore the same numbers.
final class PushTScene {
    /// Shape colours (pygame's named colours) by the index stored in each shape's user data.
    enum Paint: Int { case wall = 1, agent, block }

    let space: OpaquePointer
    let agent: OpaquePointer
    let block: OpaquePointer
    private(set) var blockShapes: [OpaquePointer] = []
    private var bodies: [OpaquePointer] = []
    private var shapes: [OpaquePointer] = []

    init(shape: PushTBlockShape) {
        space = cchipmunk_space_new()
        // pymunk's `space.static_body` is its own static body, added when first used.
        let ground = cpBodyNewStatic()!
        let walls: [((Double, Double), (Double, Double))] = [((5, 506), (5, 5)), ((5, 5), (506, 5)),
                                                              ((506, 5), (506, 506)), ((5, 506), (506, 506))]
        let wallShapes = walls.map { a, b in
            cpSegmentShapeNew(ground, cpVect(x: a.0, y: a.1), cpVect(x: b.0, y: b.1), 2)!
        }
        agent = cpBodyNewKinematic()
        cpBodySetPosition(agent, cpVect(x: 256, y: 400))
        let disc = cpCircleShapeNew(agent, 15, cpVect(x: 0, y: 0))!
        block = Self.makeBlock(shape, at: cpVect(x: 256, y: 300), angle: 0, shapes: &blockShapes)

        // The space sees the same calls in upstream's order (creating bodies and shapes
        // touches no space, so building them first changes nothing).
        cpSpaceSetGravity(space, cpVect(x: 0, y: 0))
        cpSpaceSetDamping(space, 0)
        addBody(ground)
        wallShapes.forEach { add($0, paint: .wall) }
        addBody(agent)
        add(disc, paint: .agent)
        addBody(block)
        blockShapes.forEach { add($0, paint: .block) }
    }

    private func addBody(_ body: OpaquePointer) {
        cpSpaceAddBody(space, body)
        bodies.append(body)
    }

    deinit {
        cpSpaceFree(space)
        shapes.forEach { cpShapeFree($0) }
        bodies.forEach { cpBodyFree($0) }
    }

    private func add(_ shape: OpaquePointer, paint: Paint) {
        cpShapeSetUserData(shape, UnsafeMutableRawPointer(bitPattern: paint.rawValue))
        cpSpaceAddShape(space, shape)
        shapes.append(shape)
    }

    /// Upstream's block builder: a mass-1 body with the summed polygon moments, one `Poly` per
    /// part, centre of gravity = the parts' centroids averaged, then position, then angle.
    private static func makeBlock(_ shape: PushTBlockShape, at position: cpVect, angle: Double,
                                  shapes: inout [OpaquePointer]) -> OpaquePointer {
        let moments: [Double] = shape.momentPolygons().map { vertices in
            let points = vertices.map { cpVect(x: $0.x, y: $0.y) }
            return cpMomentForPoly(1, Int32(points.count), points, cpVect(x: 0, y: 0), 0)
        }
        let moment = moments.dropFirst().reduce(moments[0]) { $0 + $1 }
        let body = cpBodyNew(1, moment)!
        let identity = cpTransform(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0)
        shapes = shape.polygons().map { vertices in
            let points = vertices.map { cpVect(x: $0.x, y: $0.y) }
            return cpPolyShapeNew(body, Int32(points.count), points, identity, 0)!
        }
        // Vec2d sums left to right, then divides by the part count.
        let centroids = shapes.map { cpShapeGetCenterOfGravity($0) }
        let sum = centroids.dropFirst().reduce(centroids[0]) { cpVect(x: $0.x + $1.x, y: $0.y + $1.y) }
        let count = Double(centroids.count)
        cpBodySetCenterOfGravity(body, centroids.count == 1 ? centroids[0] : cpVect(x: sum.x / count, y: sum.y / count))
        cpBodySetPosition(body, position)
        cpBodySetAngle(body, angle)
        return body
    }

    var agentPosition: cpVect { cpBodyGetPosition(agent) }
    var agentVelocity: cpVect { cpBodyGetVelocity(agent) }
    var blockPosition: cpVect { cpBodyGetPosition(block) }
    var blockAngle: Double { cpBodyGetAngle(block) }

    /// Upstream's `_set_state` (non-legacy order: the angle before the position, because
    /// setting the angle turns the block about its centre of gravity), then one 100 Hz step.
    func setState(agent position: cpVect, agentVelocity: cpVect, block blockPosition: cpVect, angle: Double,
                  legacyOrder: Bool, dt: Double) {
        cpBodySetVelocity(agent, agentVelocity)
        cpBodySetPosition(agent, position)
        if legacyOrder {
            cpBodySetPosition(block, blockPosition)
            cpBodySetAngle(block, angle)
        } else {
            cpBodySetAngle(block, angle)
            cpBodySetPosition(block, blockPosition)
        }
        cpSpaceStep(space, dt)
    }

    func setAgentVelocity(_ velocity: cpVect) { cpBodySetVelocity(agent, velocity) }
    func step(_ dt: Double) { cpSpaceStep(space, dt) }

    /// The block's polygons in its own frame after Chipmunk's convex hull (`shape.get_vertices()`).
    var blockLocalPolygons: [[cpVect]] {
        blockShapes.map { shape in (0..<cpPolyShapeGetCount(shape)).map { cpPolyShapeGetVert(shape, $0) } }
    }
}
