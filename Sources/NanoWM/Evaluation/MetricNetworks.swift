import Foundation
import SwiftTorch

/// The networks behind LPIPS, FID and FVD, each a TorchScript file with a fixed signature
/// (checkpoints/README.md): LPIPS and the FID Inception exported by
/// `scripts/export_metric_nets.py`, the I3D detector as upstream's own `i3d_torchscript.pt`.
/// Upstream's resizing and value mapping happen here, around the networks.
public struct MetricNetworks {
    public var lpips: LPIPSNetwork?
    public var inception: InceptionFeatures?
    public var i3d: I3DFeatures?

    public init(lpips: LPIPSNetwork? = nil, inception: InceptionFeatures? = nil, i3d: I3DFeatures? = nil) {
        (self.lpips, self.inception, self.i3d) = (lpips, inception, i3d)
    }

    /// Loads the files given (nil = that metric is not computed). `option` names how the user
    /// passes each file, for errors.
    public init(lpips: String?, inception: String?, i3d: String?, device: Device = .cpu,
                options: (lpips: String, inception: String, i3d: String) = ("--lpips", "--inception", "--i3d")) throws {
        self.lpips = try lpips.map { LPIPSNetwork(try MetricNetworkFile.load($0, kind: LPIPSNetwork.kind, option: options.lpips, device: device)) }
        self.inception = try inception.map { InceptionFeatures(try MetricNetworkFile.load($0, kind: InceptionFeatures.kind, option: options.inception, device: device)) }
        self.i3d = try i3d.map { I3DFeatures(try MetricNetworkFile.load($0, kind: nil, option: options.i3d, device: device)) }
    }
}

/// Loading a metric network's file, with one-line errors that say how to make or pass one.
enum MetricNetworkFile {
    static let formatVersion = 1

    static func remedy(_ kind: String?) -> String {
        switch kind {
        case LPIPSNetwork.kind?: return "export it with scripts/export_metric_nets.py lpips --vgg VGG16.pth --lin vgg.pth OUT (checkpoints/README.md)"
        case InceptionFeatures.kind?: return "export it with scripts/export_metric_nets.py inception --weights pt_inception-2015-12-05-6726825d.pth OUT (checkpoints/README.md)"
        default: return "use StyleGAN-V's i3d_torchscript.pt, as upstream does (checkpoints/README.md)"
        }
    }

    static func requireFile(_ path: String, kind: String?, option: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw EvaluationError("\(option) \(path): no such file; \(remedy(kind))")
        }
    }

    /// - Parameter kind: the `metric_kind` the file must declare (nil: a foreign file, the I3D).
    static func load(_ path: String, kind: String?, option: String, device: Device) throws -> ScriptModule {
        try requireFile(path, kind: kind, option: option)
        let module: ScriptModule
        do { module = try ScriptModule(contentsOf: path, device: device) } catch {
            throw EvaluationError("\(option) \(path): not a TorchScript network (\("\(error)".split(separator: "\n").first ?? "")); \(remedy(kind))")
        }
        try module.eval()
        guard let kind else { return module }
        guard case .string(let found)? = try? module.attribute("metric_kind") else {
            throw EvaluationError("\(option) \(path): not a metric network exported by scripts/export_metric_nets.py (no metric_kind); \(remedy(kind))")
        }
        guard found == kind else {
            throw EvaluationError("\(option) \(path) holds '\(found)', not '\(kind)'; \(remedy(kind))")
        }
        let version = (try? module.attribute("format_version").number()).map(Int.init) ?? -1
        guard version == formatVersion else {
            throw EvaluationError("\(option) \(path): format \(version), this build reads \(formatVersion); \(remedy(kind))")
        }
        return module
    }

    /// Runs `forward`, turning TorchScript's traceback into its last line. The file is a
    /// program of the user's, so its output is checked before anything scores with it: one
    /// floating-point row per input item (the input's first dimension), every value finite.
    static func run(_ module: ScriptModule, _ arguments: [ScriptValue], keywords: [(String, ScriptValue)] = [],
                    input: [Int]) throws -> Tensor {
        let output: Tensor
        do {
            output = try module.run("forward", arguments, keywords: keywords).tensor()
        } catch let error as TorchError {
            let lines = error.message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            throw EvaluationError("\(module.path): forward failed on input \(input): \(lines.last ?? "")")
        }
        guard output.dtype.isFloatingPoint, output.rank >= 1, output.shape[0] == input[0] else {
            throw EvaluationError("\(module.path): forward on input \(input) returned \(output.dtype) \(output.shape), not a floating-point row per item; a wrong or foreign file")
        }
        guard try output.isfinite().all().item(Bool.self) else {
            throw EvaluationError("\(module.path): forward on input \(input) returned NaN or infinite values; a wrong or broken file")
        }
        return output
    }
}

/// LPIPS (VGG, v0.1) distances of frame pairs `[N, 3, H, W]` in [−1, 1] → `[N]`.
public struct LPIPSNetwork {
    public static let kind = "lpips_vgg_v0.1"
    public let module: ScriptModule
    init(_ module: ScriptModule) { self.module = module }

    public func distances(_ x: Tensor, _ y: Tensor, chunk: Int = 8) throws -> Tensor {
        try withNoGrad {
            try Tensor.cat(try stride(from: 0, to: x.shape[0], by: chunk).map { start in
                let n = Swift.min(chunk, x.shape[0] - start)
                let part = try x.narrow(dim: 0, start: start, length: n)
                return try MetricNetworkFile.run(module, [.tensor(part), .tensor(try y.narrow(dim: 0, start: start, length: n))],
                                                 input: part.shape)
            }, dim: 0)
        }
    }
}

/// FID's pool3 features of frames `[N, 3, H, W]` in [−1, 1] → `[N, 2048]`, prepared as
/// upstream does: bilinear resize to 299 (align_corners=False) in [−1, 1], then mapped to
/// [0, 1] (the network maps back to [−1, 1] inside, as pytorch-fid's does).
public struct InceptionFeatures {
    public static let kind = "fid_inception_pool3"
    public static let size = 299
    public let module: ScriptModule
    init(_ module: ScriptModule) { self.module = module }

    public func features(_ frames: Tensor, chunk: Int = 8) throws -> Tensor {
        try withNoGrad {
            try Tensor.cat(try stride(from: 0, to: frames.shape[0], by: chunk).map { start in
                let part = try frames.narrow(dim: 0, start: start, length: Swift.min(chunk, frames.shape[0] - start))
                let resized = try part.interpolate(size: [Self.size, Self.size], mode: .bilinear, alignCorners: false)
                return try MetricNetworkFile.run(module, [.tensor((resized + 1.0) / 2.0)], input: resized.shape)
            }, dim: 0)
        }
    }
}

/// FVD's I3D clip features, called as upstream calls StyleGAN-V's detector
/// (`rescale=False, resize=True, return_features=True`) on clips resized to 224×224 and laid
/// out `[B, 3, T, 224, 224]`.
public struct I3DFeatures {
    /// The value range the clips are fed in.
    public enum InputRange {
        /// Upstream's: [0, 1] (its `fvd`).
        case unit
        /// The detector's convention with rescale=False: [−1, 1] (`fvd_standard`).
        case signed
    }

    public static let size = 224
    public let module: ScriptModule
    init(_ module: ScriptModule) { self.module = module }

    /// - Parameter clips: `[B, T, 3, H, W]` in [−1, 1].
    public func features(_ clips: Tensor, range: InputRange, chunk: Int = 2) throws -> Tensor {
        let (batch, frames) = (clips.shape[0], clips.shape[1])
        return try withNoGrad {
            try Tensor.cat(try stride(from: 0, to: batch, by: chunk).map { start in
                let n = Swift.min(chunk, batch - start)
                let flat = try clips.narrow(dim: 0, start: start, length: n).flatten(start: 0, end: 1)
                var resized = try flat.interpolate(size: [Self.size, Self.size], mode: .bilinear, alignCorners: false)
                if range == .unit { resized = try (resized + 1.0) / 2.0 }
                let layout = try resized.reshape([n, frames, 3, Self.size, Self.size]).permute(0, 2, 1, 3, 4).contiguous()
                return try MetricNetworkFile.run(module, [.tensor(layout)],
                                                 keywords: [("rescale", .bool(false)), ("resize", .bool(true)), ("return_features", .bool(true))],
                                                 input: layout.shape)
            }, dim: 0)
        }
    }
}
