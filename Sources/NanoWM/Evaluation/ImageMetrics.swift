import Foundation
import SwiftTorch

/// Frame-quality metrics with upstream's settings (piqa): PSNR with value range 1 and
/// ε = 1e-8, and SSIM with an 11×11 Gaussian window (σ = 1.5) over valid positions, both per
/// image on frames in [0, 1].
public enum ImageMetrics {
    /// PSNR per image of `[N, C, H, W]` pairs: 10·log10(1 / (MSE + ε)).
    public static func psnr(_ prediction: Tensor, _ truth: Tensor) throws -> Tensor {
        let mse = try (prediction - truth).square().mean(dims: [1, 2, 3])
        return try (mse + 1e-8).reciprocal().log10() * 10.0
    }

    /// SSIM per image of `[N, C, H, W]` pairs, averaged over channels and valid positions.
    public static func ssim(_ prediction: Tensor, _ truth: Tensor, windowSize: Int = 11, sigma: Double = 1.5) throws -> Tensor {
        let channels = prediction.shape[1]
        let kernel = try gaussianKernel(size: windowSize, sigma: sigma, channels: channels, dtype: prediction.dtype, device: prediction.device)
        // Separable blur: rows, then columns, each channel on its own.
        func blur(_ x: Tensor) throws -> Tensor {
            let rows = try x.conv2d(kernel.view([channels, 1, 1, windowSize]), groups: channels)
            return try rows.conv2d(kernel.view([channels, 1, windowSize, 1]), groups: channels)
        }
        let (c1, c2) = (0.01 * 0.01, 0.03 * 0.03)
        let muX = try blur(prediction), muY = try blur(truth)
        let sigmaX = try blur(prediction * prediction) - muX * muX
        let sigmaY = try blur(truth * truth) - muY * muY
        let sigmaXY = try blur(prediction * truth) - muX * muY
        let contrastStructure = try (sigmaXY * 2.0 + c2) / (sigmaX + sigmaY + c2)
        let luminance = try (muX * muY * 2.0 + c1) / (muX * muX + muY * muY + c1)
        return try (luminance * contrastStructure).mean(dims: [1, 2, 3])
    }

    /// A normalised 1-D Gaussian, one copy per channel: `[C, size]`.
    static func gaussianKernel(size: Int, sigma: Double, channels: Int, dtype: DType, device: Device) throws -> Tensor {
        let values = (0..<size).map { i -> Double in
            let x = Double(i) - Double(size - 1) / 2
            return Foundation.exp(-(x * x) / (2 * sigma * sigma))
        }
        let total = values.reduce(0, +)
        return try Tensor(values.map { Float($0 / total) }, shape: [1, size]).to(device, dtype).expand([channels, size]).contiguous()
    }
}
