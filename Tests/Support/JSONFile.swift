import Foundation
import SwiftTorch

/// The JSON object in the file at `path` (metrics.json, a fixture's info); throws when the
/// file does not hold one.
public func jsonObject(atPath path: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] else {
        throw TorchError.invalidArgument("\(path) does not hold a JSON object")
    }
    return object
}
