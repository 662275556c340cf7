import Foundation
import SwiftTorch

/// A committed fixture under Tests/Fixtures: tensors computed by the reference PyTorch code
/// and the metadata describing how (see Tests/Fixtures/README.md).
public struct FixtureFile {
    public let name: String
    public let tensors: [String: Tensor]
    public let metadata: [String: String]

    public static let directory = PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Fixtures")

    /// - Parameter name: path below Tests/Fixtures without the extension, e.g. "diffusion/respacing".
    public init(_ name: String) throws {
        self.name = name
        (tensors, metadata) = try SafeTensors.read(Self.directory.appendingPathComponent(name + ".safetensors").path)
    }

    public func tensor(_ key: String) throws -> Tensor {
        guard let value = tensors[key] else { throw TorchError.invalidArgument("fixture \(name) has no tensor '\(key)'") }
        return value
    }

    /// The model state dict stored as `weights.<key>`.
    public var weights: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: tensors.compactMap { key, value in
            key.hasPrefix("weights.") ? (String(key.dropFirst("weights.".count)), value) : nil
        })
    }

    /// A metadata entry parsed as JSON.
    public func json(_ key: String) throws -> Any {
        guard let text = metadata[key] else { throw TorchError.invalidArgument("fixture \(name) has no metadata '\(key)'") }
        return try JSONSerialization.jsonObject(with: Data(text.utf8))
    }
}
