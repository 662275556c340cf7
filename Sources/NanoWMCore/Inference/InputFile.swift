import SwiftTorch
import NanoWMFormats

/// Tensors a user hands the model in a safetensors file (`nanowm forward`, `sample`,
/// `rollout`), checked before any work: every problem is one line naming the file, the key
/// and the fix, instead of libtorch's dtype message or a silent NaN result.
public struct InputFile {
    public let path: String
    private let tensors: [String: Tensor]

    public init(_ path: String) throws {
        self.path = path
        tensors = try SafeTensors.read(path).tensors
    }

    public func contains(_ key: String) -> Bool { tensors[key] != nil }

    /// Values the model computes with, as float32. Other floating types are converted (the
    /// model runs in float32 as upstream's does); integer or bool data is refused, since it is
    /// almost surely the wrong tensor; NaN/Inf are refused because they poison every output.
    public func values(_ key: String, layout: String) throws -> Tensor {
        let tensor = try required(key, layout: layout)
        guard tensor.dtype.isFloatingPoint else {
            throw DataError("\(path): '\(key)' is \(tensor.dtype); the model takes floating-point values \(layout): save it as float32")
        }
        let converted = try tensor.to(.float32)
        let bad = try Self.nonFiniteCount(converted)
        guard bad == 0 else {
            throw DataError("\(path): '\(key)' has \(bad) NaN/Inf value(s) of \(converted.count); replace them with finite numbers")
        }
        return converted
    }

    /// Integer timesteps as int64; floating or bool data is refused rather than truncated.
    public func timesteps(_ key: String, layout: String) throws -> Tensor {
        let tensor = try required(key, layout: layout)
        guard !tensor.dtype.isFloatingPoint, tensor.dtype != .bool else {
            throw DataError("\(path): '\(key)' is \(tensor.dtype); timesteps are integers \(layout): save it as int64")
        }
        return try tensor.to(.int64)
    }

    /// NaN and ±Inf entries of a floating tensor.
    public static func nonFiniteCount(_ tensor: Tensor) throws -> Int {
        tensor.count - (try tensor.isfinite().to(.int64).sum().item(Int.self))
    }

    private func required(_ key: String, layout: String) throws -> Tensor {
        guard let tensor = tensors[key] else {
            let present = tensors.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw DataError("\(path): no tensor '\(key)' \(layout) (the file holds \(present.isEmpty ? "nothing" : present))")
        }
        return tensor
    }
}
