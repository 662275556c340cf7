import Foundation

/// The pushed block's shapes (upstream's `PushTEnv.add_shape`): each is one to three convex
/// polygons on one body of mass 1. The moment of inertia and centre of gravity are computed the
/// way upstream's builders compute them, quirks included: the T ignores the requested scale and
/// always uses 30, and the T and "+" take every part's moment from the first box's vertices.
public enum PushTBlockShape: String, CaseIterable, Sendable {
    case tee = "T", bar = "I", ell = "L", zed = "Z", square, smallTee = "small_tee", plus = "+"

    /// The scale upstream's `_setup` passes to every builder (`add_tee` overrides it with 30).
    public static let setupScale = 40.0

    /// The block shape for upstream's shape name (`"T"`, `"I"`, `"L"`, `"Z"`, `"square"`,
    /// `"small_tee"`, `"+"`).
    public init(name: String) throws {
        guard let shape = PushTBlockShape(rawValue: name) else {
            let known = Self.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw PushTError("unknown PushT block shape '\(name)': use one of \(known)")
        }
        self = shape
    }

    /// The number a planning layout carries for this shape (`["shape": code]`): its index in
    /// `allCases`, because layouts hold numbers and upstream's `env_info` holds the name.
    public var layoutCode: Double { Double(Self.allCases.firstIndex(of: self)!) }

    public init(layoutCode: Double) throws {
        guard layoutCode.rounded() == layoutCode, layoutCode >= 0, layoutCode < Double(Self.allCases.count) else {
            throw PushTError("PushT layout 'shape' must be a shape code 0...\(Self.allCases.count - 1) (\(Self.allCases.map(\.rawValue).joined(separator: ", "))), got \(layoutCode)")
        }
        self = Self.allCases[Int(layoutCode)]
    }

    /// The polygons' vertices in the body's frame, in the order upstream passes them to `Poly`
    /// (Chipmunk takes their convex hull).
    public func polygons(scale requested: Double = setupScale) -> [[(x: Double, y: Double)]] {
        let s = self == .tee ? 30.0 : requested
        switch self {
        case .tee:
            let length = 4.0
            return [[(-length * s / 2, s), (length * s / 2, s), (length * s / 2, 0), (-length * s / 2, 0)],
                    [(-s / 2, s), (-s / 2, length * s), (s / 2, length * s), (s / 2, s)]]
        case .smallTee:
            return [[(-3 * s / 2, s), (3 * s / 2, s), (3 * s / 2, 0), (-3 * s / 2, 0)],
                    [(-s / 2, s), (-s / 2, 2 * s), (s / 2, 2 * s), (s / 2, s)]]
        case .plus:
            return [[(-3 * s / 2, s / 2), (3 * s / 2, s / 2), (3 * s / 2, -s / 2), (-3 * s / 2, -s / 2)],
                    [(-s / 2, s / 2), (-s / 2, 3 * s / 2), (s / 2, s / 2), (s / 2, 3 * s / 2)],
                    [(-s / 2, -s / 2), (-s / 2, -3 * s / 2), (s / 2, -s / 2), (s / 2, -3 * s / 2)]]
        case .ell:
            let length = 2.0
            return [[(0, 0), (0, s * length), (s * length / 2, s * length), (s * length / 2, 0)],
                    [(0, 0), (s * length, 0), (s * length, -s * length / 2), (0, -s * length / 2)]]
        case .zed:
            let length = 2.0
            return [[(0, 0), (0, length * s / 2), (length * s, length * s / 2), (length * s, 0)],
                    [(-length * s / 2, 0), (length * s / 2, 0), (length * s / 2, -length * s / 2), (-length * s / 2, -length * s / 2)]]
        case .square:
            return [[(-s, -s), (-s, s), (s, s), (s, -s)]]
        case .bar:
            return [[(-s / 2, -s * 2), (-s / 2, s * 2), (s / 2, s * 2), (s / 2, -s * 2)]]
        }
    }

    /// For each polygon, the vertex list upstream hands `moment_for_poly` (the T and "+" reuse
    /// the first box's); the body's moment is their moments' sum in this order.
    public func momentPolygons(scale: Double = setupScale) -> [[(x: Double, y: Double)]] {
        let parts = polygons(scale: scale)
        switch self {
        case .tee, .plus: return parts.map { _ in parts[0] }
        default: return parts
        }
    }
}

/// A PushT environment error: one line naming what is wrong and how to fix it.
public struct PushTError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
