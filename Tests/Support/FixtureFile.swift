import Foundation
import SwiftTorch
import XCTest

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

/// How a float32 result computed here is judged against a fixture made by the reference on
/// another machine (Tests/Fixtures/README.md, "Tolerances"). CPUs with other instruction sets
/// run other MKL/oneDNN/ATen kernels, so float32 results differ between machines by the
/// computation's own rounding error, which a chain of sampling steps can amplify. Each fixture
/// value `key` therefore comes with `key.f64`: the same computation (same weights, inputs and
/// random draws) replayed in float64. Their distance E is the reference's float32 error; ours
/// must be as close to the float64 value as the reference's is, within a factor of 4, plus one
/// float32 rounding of the result's magnitude:
///
///     max |actual − f64| ≤ 4 · (E + ε₃₂ · max |f64|)
///
/// The reference itself, run under every CPU capability this machine offers, stays within
/// 1.5·E (README), so the factor leaves room without hiding a real error, which shows up as
/// distances far above E.
public struct ReferenceAgreement: CustomStringConvertible {
    public static let factor = 4.0
    /// max |actual − f64|
    public let distance: Double
    /// E = max |fixture (float32) − f64|
    public let referenceError: Double
    public let tolerance: Double
    /// max |actual − fixture|, for the log
    public let distanceToFixture: Double

    public var holds: Bool { distance <= tolerance }
    public var description: String {
        String(format: "max|Δ f64| = %.3g (reference's own %.3g, allowed %.3g), max|Δ fixture| = %.3g",
               distance, referenceError, tolerance, distanceToFixture)
    }
}

extension FixtureFile {
    /// Compares `actual` with fixture value `key` and its float64 replay `key.f64`.
    public func agreement(_ actual: Tensor, _ key: String) throws -> ReferenceAgreement {
        let float32 = try tensor(key).to(.float64), float64 = try tensor(key + ".f64")
        guard actual.shape == float32.shape else {
            throw TorchError.invalidArgument("\(name) \(key): shape \(actual.shape), fixture \(float32.shape)")
        }
        let error = try maxAbsDifference(float32, float64)
        let scale = try float64.abs().max().item(Double.self)
        let epsilon = Double(Float.ulpOfOne)
        return ReferenceAgreement(distance: try maxAbsDifference(actual, float64), referenceError: error,
                                  tolerance: ReferenceAgreement.factor * (error + epsilon * scale),
                                  distanceToFixture: try maxAbsDifference(actual, float32))
    }

    /// Asserts that `actual` agrees with fixture value `key` under the rule above; returns the
    /// measurement for the test's log.
    @discardableResult
    public func assertAgrees(_ actual: Tensor, _ key: String, _ what: String = "",
                             file: StaticString = #filePath, line: UInt = #line) throws -> ReferenceAgreement {
        let result = try agreement(actual, key)
        XCTAssertFalse(try actual.isnan().any().item(Bool.self), "\(name) \(key) \(what): NaN", file: file, line: line)
        XCTAssertTrue(result.holds, "\(name) \(key) \(what): \(result)", file: file, line: line)
        return result
    }
}
