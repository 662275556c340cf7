import Foundation
import NanoWMCore
import NanoWMFormats
import SwiftTorch

/// How keys become actions in `nanowm play`: the action with no key held (`rest`), plus the
/// vector of every key held (keys are the browser's `KeyboardEvent.code`, e.g. "ArrowUp",
/// "KeyW", "Space"), each component clipped to `low`…`high` when given. One raw action per
/// frame, of the dataset's per-step action dimension.
public struct ActionMap: Codable, Sendable, Equatable {
    public var rest: [Double]
    public var keys: [String: [Double]]
    public var low: [Double]?
    public var high: [Double]?
    /// Shown on the page under the frames.
    public var note: String?

    public init(rest: [Double], keys: [String: [Double]], low: [Double]? = nil, high: [Double]? = nil, note: String? = nil) {
        (self.rest, self.keys, self.low, self.high, self.note) = (rest, keys, low, high, note)
    }

    public var dimension: Int { rest.count }

    /// The action while `held` keys are down (keys the map does not name are ignored).
    public func action(held: Set<String>) -> [Double] {
        var action = rest
        for key in held.sorted() {
            guard let vector = keys[key] else { continue }
            for i in action.indices { action[i] += vector[i] }
        }
        for i in action.indices {
            if let low { action[i] = Swift.max(action[i], low[i]) }
            if let high { action[i] = Swift.min(action[i], high[i]) }
        }
        return action
    }

    /// A user's map, a JSON file such as
    /// `{"rest": [0, 0], "keys": {"ArrowRight": [1, 0], "ArrowUp": [0, -1]}, "low": [-1, -1], "high": [1, 1]}`;
    /// every vector must have the model's per-step action `dimension`.
    public static func load(_ url: URL, dimension: Int) throws -> ActionMap {
        let data: Data
        do { data = try RegularFile.data(url.path) } catch { throw DataError("\(error) (an action map); give --action-map a JSON file") }
        let map: ActionMap
        do { map = try JSONDecoder().decode(ActionMap.self, from: data) } catch {
            throw DataError("\(url.path): not an action map (\(Self.describe(error))); expected {\"rest\": [...], \"keys\": {\"KeyW\": [...], ...}}")
        }
        try map.check(dimension: dimension, source: url.path)
        return map
    }

    func check(dimension: Int, source: String) throws {
        let vectors = [("rest", rest)] + keys.sorted { $0.key < $1.key }.map { ("keys.\($0.key)", $0.value) }
            + [("low", low), ("high", high)].compactMap { name, value in value.map { (name, $0) } }
        for (name, vector) in vectors {
            guard vector.count == dimension else {
                throw DataError("\(source): \(name) has \(vector.count) values; the model takes \(dimension)-D actions per step")
            }
            guard vector.allSatisfy(\.isFinite) else { throw DataError("\(source): \(name) holds a non-finite value") }
        }
        guard !keys.isEmpty else { throw DataError("\(source): no keys; name at least one, e.g. \"keys\": {\"KeyW\": [...]}") }
    }

    /// The built-in wall's map: arrows and WASD move along x (right +) and y (down +, the
    /// image's row direction) by `scale`, clipped to the environment's ±1.
    public static func wall(scale: [Double]) -> ActionMap {
        let (x, y) = (scale[0], scale[1])
        let keys: [String: [Double]] = [
            "ArrowRight": [x, 0], "KeyD": [x, 0], "ArrowLeft": [-x, 0], "KeyA": [-x, 0],
            "ArrowDown": [0, y], "KeyS": [0, y], "ArrowUp": [0, -y], "KeyW": [0, -y],
        ]
        return ActionMap(rest: [0, 0], keys: keys, low: [-1, -1], high: [1, 1],
                         note: String(format: "arrows or WASD move the agent (%.2f, %.2f per frame: √3 × the dataset's action std, at most its largest |action|)", x, y))
    }

    /// The wall's key scale from its training episodes' actions: per axis √3 × the standard
    /// deviation (the edge of a uniform spread with that deviation), at most the largest |a|.
    public static func wallScale(episodes: Int, length: Int, seed: UInt64) -> [Double] {
        var values: [[Double]] = [[], []]
        for episode in 0..<Swift.max(Swift.min(episodes, 50), 1) {
            for action in WallDataGenerator.walk(episode, length: length, seed: seed).actions {
                values[0].append(action.0)
                values[1].append(action.1)
            }
        }
        return values.map { axis in
            let mean = axis.reduce(0, +) / Double(axis.count)
            let variance = axis.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(Swift.max(axis.count - 1, 1))
            let largest = axis.map(abs).max() ?? 1
            return Swift.min(3.0.squareRoot() * variance.squareRoot(), largest)
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "\(error)"
        }
    }
}
