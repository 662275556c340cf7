import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

/// PSNR and SSIM against piqa, the library upstream's evaluator uses, with its settings
/// (PSNR ε 1e-8 and range 1; SSIM 11×11 Gaussian window, σ 1.5, 3 channels, valid positions).
final class ImageMetricsTests: XCTestCase {
    func testPSNRAndSSIMEqualPiqa() throws {
        try manualSeed(5)
        let truth = try Tensor.rand([6, 3, 32, 32])
        // Predictions from near-perfect to poor, so both metrics span their range.
        let noise = try Tensor.randn([6, 3, 32, 32]) * (try Tensor([0.01, 0.03, 0.1, 0.2, 0.4, 0.8] as [Float], shape: [6, 1, 1, 1]))
        let prediction = try (truth + noise).clamp(min: 0, max: 1)
        let python = try PyTorchBaseline.shared.run("""
        import sys, types
        # piqa's package __init__ imports torchvision for LPIPS/FID, which PSNR/SSIM never use.
        sys.modules.setdefault('torchvision', types.ModuleType('torchvision'))
        import piqa
        O['psnr'] = piqa.PSNR(epsilon=1e-08, value_range=1.0, reduction='none')(I['p'], I['t'])
        O['ssim'] = piqa.SSIM(window_size=11, sigma=1.5, n_channels=3, reduction='none')(I['p'], I['t'])
        """, inputs: ["p": prediction, "t": truth])
        try assertClose(try ImageMetrics.psnr(prediction, truth), python["psnr"], atol: 1e-4, "PSNR (dB)")
        try assertClose(try ImageMetrics.ssim(prediction, truth), python["ssim"], atol: 1e-5, "SSIM")
    }

    func testCopyLastFrameBaselineRepeatsTheLastContextFrame() throws {
        let video = try Tensor.arange(0, 4).to(.float32).reshape([1, 4, 1, 1, 1]).expand([1, 4, 3, 2, 2])
        let model = try NanoWMModel(NanoWMConfig(inputSize: 2, patchSize: 1, inChannels: 3, hiddenSize: 8, depth: 2, numHeads: 2,
                                            numFrames: 4, useAction: false, causal: true))
        let evaluation = WorldModelEvaluation(model: model, codec: PixelCodec(), process: FlowMatching(), options: SamplingOptions(),
                                              contextFrames: 2)
        let copied = try evaluation.copyLastFrame(video)
        XCTAssertEqual(try copied.select(dim: 1, index: 3).flatten().toArray(Float.self), [Float](repeating: 1, count: 12))
        XCTAssertEqual(try copied.select(dim: 1, index: 0).flatten().toArray(Float.self), [Float](repeating: 0, count: 12))
    }
}
