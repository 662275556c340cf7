import Foundation
import SwiftTorch
import NanoWMFormats

/// Depth Anything 3 as scripts/export_geometry.py exports it: a TorchScript module traced for one
/// frame size, `forward(frames [N, 3, H, W]) -> (depth, confidence, extrinsics, intrinsics)`,
/// with its description in the archive (`nanowm_geometry.json`). Frames are prepared here as
/// the package's `inference(process_res=R)` prepares them: the longest side scaled to R, then
/// each side to the nearest multiple of the patch size, both with OpenCV (area when shrinking,
/// bicubic when enlarging), then scaled to [0, 1] and ImageNet-normalised.
public final class GeometryNetwork {
    public struct Description: Decodable {
        public var format_version: Int
        public var kind: String
        public var model: String
        public var height: Int
        public var width: Int
        public var patch_size: Int
        public var mean: [Double]
        public var std: [Double]
        public var min_frames: Int
        public var weights: String
        /// The processing size the export was made for (`--process-res`), when given.
        public var process_res: Int?
    }

    /// The reference's processing size of the longest side.
    public static let defaultProcessRes = 504

    public static let formatVersion = 1
    public static let descriptionFile = "nanowm_geometry.json"

    public let path: String
    public let description: Description
    private let module: ScriptModule

    public init(contentsOf path: String, device: Device = .cpu) throws {
        let module = try ScriptModule(contentsOf: path, device: device)
        guard let json = try ScriptModule.extraFile(Self.descriptionFile, in: path) else {
            throw TorchError.invalidArgument("\(path): not a geometry network exported by scripts/export_geometry.py (no \(Self.descriptionFile) in it)")
        }
        let description: Description
        do { description = try JSONDecoder().decode(Description.self, from: json) } catch {
            throw TorchError.invalidArgument("\(path): its \(Self.descriptionFile) is not what scripts/export_geometry.py writes (\(error))")
        }
        guard description.format_version == Self.formatVersion else {
            throw TorchError.invalidArgument("\(path): geometry format \(description.format_version), this build reads \(Self.formatVersion); export it again with scripts/export_geometry.py")
        }
        guard description.mean.count == 3, description.std.count == 3, description.patch_size > 0 else {
            throw TorchError.invalidArgument("\(path): its \(Self.descriptionFile) lacks the normalisation or patch size")
        }
        try module.eval()
        (self.path, self.description, self.module) = (path, description, module)
    }

    static func nearestMultiple(_ x: Int, _ patch: Int) -> Int {
        let down = (x / patch) * patch, up = down + patch
        return abs(up - x) <= abs(x - down) ? up : down
    }

    /// The package's two resizes of one frame.
    public static func resize(_ frame: RGBImage, processRes: Int, patch: Int = 14) throws -> RGBImage {
        var image = frame
        let longest = Swift.max(image.width, image.height)
        if longest != processRes {
            let scale = Double(processRes) / Double(longest)
            let w = Swift.max(1, Int((Double(image.width) * scale).rounded(.toNearestOrEven)))
            let h = Swift.max(1, Int((Double(image.height) * scale).rounded(.toNearestOrEven)))
            image = try image.resized(width: w, height: h, scale > 1 ? .cubic : .area)
        }
        let (w, h) = (Swift.max(1, nearestMultiple(image.width, patch)), Swift.max(1, nearestMultiple(image.height, patch)))
        if w != image.width || h != image.height {
            image = try image.resized(width: w, height: h, w > image.width || h > image.height ? .cubic : .area)
        }
        return image
    }

    /// The network's input `[N, 3, H, W]` for frames of one size, and the frames as the
    /// package reports them back (`processed_images`: the input un-normalised in float64,
    /// clipped to [0, 1], times 255 and truncated).
    public func prepare(_ frames: [RGBImage], processRes: Int) throws -> (input: Tensor, images: Tensor) {
        guard frames.count >= description.min_frames else {
            throw TorchError.invalidArgument("Depth Anything 3 needs at least \(description.min_frames) frames of a video, got \(frames.count); lower --frame-step or use a longer video")
        }
        let resized = try frames.map { try Self.resize($0, processRes: processRes, patch: description.patch_size) }
        guard let first = resized.first, resized.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw TorchError.invalidArgument("the video's frames differ in size")
        }
        guard first.width == description.width, first.height == description.height else {
            throw TorchError.invalidArgument("\(path) was exported for \(description.width)×\(description.height) frames, but "
                + "\(frames[0].width)×\(frames[0].height) frames at process_res \(processRes) become \(first.width)×\(first.height); "
                + "export it again with scripts/export_geometry.py --video-size \(frames[0].height) \(frames[0].width) --process-res \(processRes)")
        }
        let mean = try Tensor(description.mean.map(Float.init)).reshape([1, 3, 1, 1])
        let std = try Tensor(description.std.map(Float.init)).reshape([1, 3, 1, 1])
        let bytes = try Tensor(resized.flatMap(\.pixels)).reshape([resized.count, first.height, first.width, 3])
        let input = try ((bytes.permute(0, 3, 1, 2).to(.float32) / 255.0 - mean) / std).contiguous()
        let mean64 = try Tensor(description.mean).reshape([1, 1, 1, 3]), std64 = try Tensor(description.std).reshape([1, 1, 1, 3])
        let images = try ((input.permute(0, 2, 3, 1).to(.float64) * std64 + mean64).clamp(min: 0, max: 1) * 255.0).to(.uint8)
        return (input, try images.contiguous())
    }

    /// Depth, confidence and cameras for the frames (one multi-view batch).
    public func predict(_ frames: [RGBImage], processRes: Int) throws -> GeometryPrediction {
        let (input, images) = try prepare(frames, processRes: processRes)
        let outputs = try withNoGrad { try module.run("forward", [.tensor(input)]).tensors() }
        guard outputs.count == 4 else {
            throw TorchError.invalidArgument("\(path): forward returned \(outputs.count) tensors, not depth, confidence, extrinsics and intrinsics")
        }
        return try GeometryPrediction(depth: outputs[0], confidence: outputs[1], intrinsics: outputs[3], extrinsics: outputs[2], images: images)
    }
}
