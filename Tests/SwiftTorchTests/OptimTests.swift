import SwiftTorch
import TestSupport
import XCTest

/// AdamW and gradient clipping against torch.optim.AdamW and the reference trainer's clipping
/// formula, over several steps with fixed gradients. Tolerance: bitwise equality for AdamW
/// (same single-tensor update order), 1e-6 for the clip coefficient.
final class OptimTests: XCTestCase {
    func testAdamWMatchesTorchBitwiseOverSteps() throws {
        try manualSeed(3)
        let start = try Tensor.randn([5, 4], dtype: .float32)
        let grads = try (0..<4).map { _ in try Tensor.randn([5, 4], dtype: .float32) }
        var inputs = ["p": start]
        for (i, g) in grads.enumerated() { inputs["g\(i)"] = g }
        let torch = try PyTorchBaseline.shared.run("""
        p = I['p'].clone().requires_grad_(True)
        opt = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, foreach=False)
        for i in range(4):
            p.grad = I[f'g{i}'].clone()
            opt.step()
        O['p'] = p.detach()
        """, inputs: inputs)

        let p = try start.clone().requiresGrad_()
        let optimizer = try AdamW([p], learningRate: 1e-2, betas: (0.9, 0.95), eps: 1e-8, weightDecay: 0.1)
        for g in grads {
            try p.setGrad(g.clone())
            try optimizer.step()
        }
        try assertExactlyEqual(p.detach(), torch["p"], "AdamW after 4 steps")
    }

    func testClipGradNormMatchesTheReferenceFormula() throws {
        try manualSeed(5)
        let a = try (Tensor.randn([3, 3]) * 4.0).requiresGrad_()
        let b = try Tensor.randn([7]).requiresGrad_()
        let ga = try Tensor.randn([3, 3]) * 3.0, gb = try Tensor.randn([7])
        try a.setGrad(ga.clone()); try b.setGrad(gb.clone())
        // The reference trainer's formula: total = ‖(‖g‖)‖, coef = min(max/(total+1e-6), 1).
        let torch = try PyTorchBaseline.shared.run("""
        gs = [I['ga'].clone(), I['gb'].clone()]
        total = torch.norm(torch.stack([torch.norm(g, 2.0) for g in gs]), 2.0)
        coef = torch.clamp(1.0 / (total + 1e-6), max=1.0)
        O['total'] = total; O['ga'] = gs[0] * coef; O['gb'] = gs[1] * coef
        """, inputs: ["ga": ga, "gb": gb])
        let total = try clipGradNorm([a, b], maxNorm: 1.0)
        try assertClose(total, torch["total"], atol: 1e-6, "total norm")
        try assertClose(XCTUnwrap(a.grad), torch["ga"], atol: 1e-6, "clipped grad a")
        try assertClose(XCTUnwrap(b.grad), torch["gb"], atol: 1e-6, "clipped grad b")
    }
}
