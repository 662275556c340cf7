import SwiftTorch
import Foundation
import NanoWMFormats

/// The built-in environment, in the spirit of DINO-WM's "Wall": a point agent in a square
/// room split by a vertical wall with one door. Actions are 2-D displacements; the wall
/// stops the agent unless it passes through the door. Deterministic: the same seed and
/// actions give the same frames, so datasets regenerate bit for bit.
public struct WallEnvironment: Sendable {
    public struct Layout: Sendable, Equatable {
        /// Horizontal position of the wall's centre line, in room units [0, 1].
        public var wallX = 0.5
        public var wallHalfWidth = 0.03
        /// Vertical centre and half height of the door.
        public var doorY = 0.5
        public var doorHalfHeight = 0.12
        public var agentRadius = 0.08
        /// The largest displacement one action can make along each axis.
        public var maxStep = 0.1
        public init() {}
    }

    public var layout: Layout
    public let resolution: Int
    public private(set) var position: (x: Double, y: Double)

    public static let actionDimension = 2

    public init(layout: Layout = Layout(), resolution: Int = 64, start: (x: Double, y: Double)) {
        self.layout = layout
        self.resolution = resolution
        position = start
    }

    /// A random start anywhere in the room off the wall.
    public static func randomStart(_ layout: Layout, using random: inout SeededRandom) -> (x: Double, y: Double) {
        while true {
            let p = (x: random.uniform(layout.agentRadius, 1 - layout.agentRadius), y: random.uniform(layout.agentRadius, 1 - layout.agentRadius))
            if abs(p.x - layout.wallX) > layout.wallHalfWidth + layout.agentRadius { return p }
        }
    }

    /// Applies an action (clipped to ±1 per axis, scaled by `maxStep`) and returns the new position.
    @discardableResult
    public mutating func step(_ action: (Double, Double)) -> (x: Double, y: Double) {
        let dx = max(-1, min(1, action.0)) * layout.maxStep
        let dy = max(-1, min(1, action.1)) * layout.maxStep
        let r = layout.agentRadius
        var next = (x: min(max(position.x + dx, r), 1 - r), y: min(max(position.y + dy, r), 1 - r))
        if crossesWall(from: position.x, to: next.x) && !fitsThroughDoor(next.y) {
            // Blocked: stop against the wall on the side the agent came from.
            let face = position.x < layout.wallX ? layout.wallX - layout.wallHalfWidth - r : layout.wallX + layout.wallHalfWidth + r
            next.x = face
        }
        position = next
        return position
    }

    private func crossesWall(from x0: Double, to x1: Double) -> Bool {
        let left = layout.wallX - layout.wallHalfWidth - layout.agentRadius
        let right = layout.wallX + layout.wallHalfWidth + layout.agentRadius
        return max(x0, x1) > left && min(x0, x1) < right
    }

    private func fitsThroughDoor(_ y: Double) -> Bool {
        abs(y - layout.doorY) <= layout.doorHalfHeight - layout.agentRadius * 0.5
    }

    /// The current frame as RGB bytes, row-major `[resolution][resolution][3]`.
    public func pixelBytes() -> [UInt8] {
        let n = resolution
        var pixels = [UInt8](repeating: 0, count: n * n * 3)
        let background: [UInt8] = [235, 235, 225], wall: [UInt8] = [60, 70, 90], door: [UInt8] = [210, 180, 120], agent: [UInt8] = [200, 40, 40]
        for row in 0..<n {
            let y = (Double(row) + 0.5) / Double(n)
            for column in 0..<n {
                let x = (Double(column) + 0.5) / Double(n)
                var color = background
                if abs(x - layout.wallX) <= layout.wallHalfWidth {
                    color = abs(y - layout.doorY) <= layout.doorHalfHeight ? door : wall
                }
                let distance = ((x - position.x) * (x - position.x) + (y - position.y) * (y - position.y)).squareRoot()
                if distance <= layout.agentRadius { color = agent }
                let i = (row * n + column) * 3
                pixels[i] = color[0]; pixels[i + 1] = color[1]; pixels[i + 2] = color[2]
            }
        }
        return pixels
    }
}

/// Exploratory actions for data collection: a direction held for a few steps, then a new
/// one, with a pull toward the door so crossings through it are common.
public struct WanderPolicy {
    private var random: SeededRandom
    private var current = (0.0, 0.0)
    private var remaining = 0

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    public mutating func action(at position: (x: Double, y: Double), layout: WallEnvironment.Layout) -> (Double, Double) {
        if remaining == 0 {
            remaining = 2 + Int(random.next() % 5)
            if random.uniform(0, 1) < 0.3 {
                // Head for the door.
                let dx = layout.wallX - position.x, dy = layout.doorY - position.y
                let norm = max((dx * dx + dy * dy).squareRoot(), 1e-6)
                current = (dx / norm * 2, dy / norm)
            } else {
                current = (random.uniform(-1, 1), random.uniform(-1, 1))
            }
        }
        remaining -= 1
        return (max(-1, min(1, current.0 + random.uniform(-0.2, 0.2))), max(-1, min(1, current.1 + random.uniform(-0.2, 0.2))))
    }
}

/// The wall as a planning environment: state `[x, y]` in room units, one 2-D action per step,
/// frames at `resolution`², success within `successRadius` of the goal's position (upstream's
/// wall uses 4.5 px of its 65-px room, ≈ 0.07 room units).
extension WallEnvironment: PlanningEnvironment {
    public static let successRadius = 0.07

    public var actionDimension: Int { Self.actionDimension }
    public var state: [Double] { [position.x, position.y] }

    public mutating func reset(to state: [Double], seed: UInt64) throws {
        guard state.count == 2, state.allSatisfy(\.isFinite) else {
            throw DataError("the wall environment's state is [x, y]; got \(state)")
        }
        position = (x: state[0], y: state[1])
    }

    @discardableResult
    public mutating func step(_ action: [Double]) throws -> Bool {
        guard action.count == 2 else { throw DataError("the wall environment takes 2-D actions; got \(action.count) values") }
        step((action[0], action[1]))
        return false
    }

    public func render() throws -> RGBImage {
        try RGBImage(width: resolution, height: resolution, pixels: pixelBytes())
    }

    public func evaluate(goal: [Double], current: [Double]) -> PlanningOutcome {
        let dx = goal[0] - current[0], dy = goal[1] - current[1]
        let xy = (dx * dx + dy * dy).squareRoot()
        let all = zip(goal, current).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        return PlanningOutcome(success: xy < Self.successRadius, stateDistance: all, xyDistance: xy)
    }

    /// `wall_x` and `door_y` (room units), as dataset goals carry them.
    public mutating func applyLayout(_ values: [String: Double]) throws {
        for (key, value) in values {
            switch key {
            case "wall_x": layout.wallX = value
            case "door_y": layout.doorY = value
            default: throw DataError("the wall environment has no layout setting '\(key)' (it takes wall_x, door_y)")
            }
        }
    }

    /// A start and a goal anywhere in the room off the wall, drawn from `seed`; every such goal
    /// is reachable through the door.
    public func randomInitAndGoal(seed: UInt64) -> (initial: [Double], goal: [Double]) {
        var random = SeededRandom(seed: seed)
        let start = Self.randomStart(layout, using: &random), goal = Self.randomStart(layout, using: &random)
        return ([start.x, start.y], [goal.x, goal.y])
    }
}
