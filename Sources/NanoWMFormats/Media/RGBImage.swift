import SwiftTorch

/// An 8-bit RGB picture: `height` rows of `width` pixels, each three bytes (R, G, B), rows top
/// to bottom (the `[H][W][3]` layout). What the PNG and GIF encoders and the metric loggers take.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `height * width * 3` bytes, row-major, channels last.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else {
            throw TorchError.invalidArgument("an image needs a positive size, got \(width)x\(height)")
        }
        guard pixels.count == width * height * 3 else {
            throw TorchError.invalidArgument("a \(width)x\(height) RGB image needs \(width * height * 3) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A `width`×`height` image of one colour.
    public init(width: Int, height: Int, filling color: (UInt8, UInt8, UInt8) = (0, 0, 0)) throws {
        var pixels = [UInt8](repeating: 0, count: max(width * height, 0) * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = color.0; pixels[i + 1] = color.1; pixels[i + 2] = color.2
        }
        try self.init(width: width, height: height, pixels: pixels)
    }

    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        get {
            let i = (y * width + x) * 3
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.0; pixels[i + 1] = newValue.1; pixels[i + 2] = newValue.2
        }
    }

    /// An image from a tensor `[3, H, W]` (PyTorch's layout) or `[H, W, 3]`; one channel
    /// (`[1, H, W]`, `[H, W, 1]`, `[H, W]`) is shown as grey. Floating-point values are read as
    /// `[0, 1]` (clamped, scaled by 255, rounded); `uint8` values are taken as they are.
    /// A `[3, H, 3]` tensor is read as `[3, H, W]`. The tensor may live on any device.
    public init(tensor: Tensor) throws {
        let shape = tensor.shape
        var hwc: Tensor
        switch shape.count {
        case 2:
            hwc = try tensor.unsqueeze(2)
        case 3 where shape[0] == 3 || (shape[0] == 1 && shape[2] != 3 && shape[2] != 1):
            hwc = try tensor.permute(1, 2, 0)
        case 3 where shape[2] == 3 || shape[2] == 1:
            hwc = tensor
        default:
            throw TorchError.invalidArgument("an RGB image tensor must be [3,H,W], [H,W,3], [1,H,W], [H,W,1] or [H,W]; got \(shape)")
        }
        if hwc.size(2) == 1 { hwc = try hwc.expand([hwc.size(0), hwc.size(1), 3]) }
        let bytes = try Self.toUInt8(hwc).contiguous().toArray(UInt8.self)
        try self.init(width: hwc.size(1), height: hwc.size(0), pixels: bytes)
    }

    /// Frames from a video tensor `[T, 3, H, W]` or `[T, H, W, 3]` (values as in `init(tensor:)`).
    public static func frames(from video: Tensor) throws -> [RGBImage] {
        guard video.rank == 4 else {
            throw TorchError.invalidArgument("a video tensor must be [T,3,H,W] or [T,H,W,3]; got \(video.shape)")
        }
        return try (0..<video.size(0)).map { try RGBImage(tensor: video.select(dim: 0, index: $0)) }
    }

    /// Images laid out left to right, top to bottom, `columns` to a row, with `padding` pixels
    /// of `background` between and around them. All images must share one size.
    public static func grid(_ images: [RGBImage], columns: Int, padding: Int = 2,
                            background: (UInt8, UInt8, UInt8) = (255, 255, 255)) throws -> RGBImage {
        guard let first = images.first, columns > 0, padding >= 0 else {
            throw TorchError.invalidArgument("a grid needs at least one image and a positive column count")
        }
        guard images.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw TorchError.invalidArgument("grid images must share one size")
        }
        let cols = min(columns, images.count), rows = (images.count + cols - 1) / cols
        var out = try RGBImage(width: cols * (first.width + padding) + padding,
                               height: rows * (first.height + padding) + padding, filling: background)
        for (n, image) in images.enumerated() {
            let x0 = padding + (n % cols) * (first.width + padding)
            let y0 = padding + (n / cols) * (first.height + padding)
            for y in 0..<image.height {
                let src = y * image.width * 3, dst = ((y0 + y) * out.width + x0) * 3
                out.pixels.replaceSubrange(dst..<(dst + image.width * 3), with: image.pixels[src..<(src + image.width * 3)])
            }
        }
        return out
    }

    private static func toUInt8(_ t: Tensor) throws -> Tensor {
        let cpu = try t.to(.cpu)
        if cpu.dtype == .uint8 { return cpu }
        if cpu.dtype.isFloatingPoint {
            return try (cpu.to(.float32).clamp(min: 0, max: 1) * 255.0).round().to(.uint8)
        }
        return try cpu.clamp(min: 0, max: 255).to(.uint8)
    }
}
