import Foundation
import SwiftTorch

/// A codec network exported by `scripts/export_codec.py`: one TorchScript file with the
/// network's methods and, as attributes, everything the codec needs (kind, latent channels,
/// scaling factor, downsampling, input size, normalisation). Nothing is hard-coded here: the
/// file says what it is, and a file made for another codec is refused.
public struct ExportedCodec {
    public let module: ScriptModule
    public let kind: String
    public let latentChannels: Int
    public let scalingFactor: Double
    /// Pixels per latent cell (SD-VAE) or the patch size (semantic encoders).
    public let downsample: Int
    /// Semantic encoders: the square size frames are resized to, and the normalisation.
    public let inputSize: Int?
    public let imageMean: [Double]
    public let imageStd: [Double]

    public static let formatVersion = 1

    /// Runs one of the network's methods. TorchScript reports a failure inside the network as
    /// a traceback; the user gets its last line (the error itself), naming the file and method.
    private func run(_ method: String, _ input: Tensor) throws -> ScriptValue {
        do {
            return try module.run(method, [.tensor(input)])
        } catch let error as TorchError {
            let lines = error.message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            throw TorchError.invalidArgument("\(module.path): the \(kind) codec's \(method) failed on input \(input.shape): \(lines.last ?? "")")
        }
    }

    /// A method's one tensor, checked as `checked` says.
    public func tensor(_ method: String, _ input: Tensor) throws -> Tensor {
        try checked(try run(method, input).tensor(), method, input)
    }

    /// A method's tensors, each checked as `checked` says.
    public func tensors(_ method: String, _ input: Tensor) throws -> [Tensor] {
        try run(method, input).tensors().map { try checked($0, method, input) }
    }

    /// The network is a program of the user's (README): what it returns is checked on every
    /// call, not only at the run's start, before a NaN or an integer tensor reaches a loss, a
    /// latent cache or a metric: floating point and finite, or one line naming the file.
    private func checked(_ output: Tensor, _ method: String, _ input: Tensor) throws -> Tensor {
        guard output.dtype.isFloatingPoint else {
            throw TorchError.invalidArgument("\(module.path): the \(kind) codec's \(method) returned \(output.dtype) values for input \(input.shape), not floating point; a wrong or broken file")
        }
        guard try output.isfinite().all().item(Bool.self) else {
            throw TorchError.invalidArgument("\(module.path): the \(kind) codec's \(method) returned NaN or infinite values for input \(input.shape); a wrong or broken file, or frames outside [-1, 1]")
        }
        return output
    }

    /// Loads `path` onto `device` in eval mode and checks it was exported for `kind`.
    public init(contentsOf path: String, kind expected: String, device: Device = .cpu) throws {
        let loaded = try ScriptModule(contentsOf: path, device: device)
        try loaded.eval()
        func attribute(_ name: String) throws -> ScriptValue {
            do { return try loaded.attribute(name) } catch {
                throw TorchError.invalidArgument("\(path): not a codec exported by scripts/export_codec.py (no '\(name)' attribute)")
            }
        }
        guard case .string(let found) = try attribute("codec_kind") else {
            throw TorchError.invalidArgument("\(path): codec_kind is not a string")
        }
        guard found == expected else {
            throw TorchError.invalidArgument("\(path) holds a '\(found)' codec, not '\(expected)'; export one with scripts/export_codec.py \(expected) SRC OUT")
        }
        let version = Int(try attribute("format_version").number())
        guard version == Self.formatVersion else {
            throw TorchError.invalidArgument("\(path): codec format \(version), this build reads \(Self.formatVersion); export it again with scripts/export_codec.py")
        }
        module = loaded
        kind = found
        latentChannels = Int(try attribute("latent_channels").number())
        scalingFactor = try attribute("scaling_factor").number()
        downsample = Int(try attribute("downsample").number())
        let semantic = try loaded.hasMethod("encode_tokens")
        inputSize = semantic ? Int(try attribute("input_size").number()) : nil
        imageMean = semantic ? try attribute("image_mean").elements().map { try $0.number() } : []
        imageStd = semantic ? try attribute("image_std").elements().map { try $0.number() } : []
    }
}
