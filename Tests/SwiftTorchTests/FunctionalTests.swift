import SwiftTorch
import TestSupport
import XCTest

/// Functional ops and their gradients against torch.nn.functional on the same inputs.
/// Tolerances are float32 round-off bounds (1e-5 absolute on unit-scale values).
final class FunctionalTests: XCTestCase {
    func testLayerNormSoftmaxAndCausalAttentionWithGradients() throws {
        try manualSeed(11)
        let x = try Tensor.randn([2, 3, 5, 8])
        let torch = try PyTorchBaseline.shared.run("""
        x = I['x'].clone().requires_grad_(True)
        ln = F.layer_norm(x, [8])
        att = F.scaled_dot_product_attention(ln, ln, x, is_causal=True)
        O['ln'] = ln; O['sm'] = torch.softmax(x, dim=-1); O['att'] = att
        att.square().sum().backward()
        O['grad'] = x.grad
        """, inputs: ["x": x])

        let leaf = try x.clone().requiresGrad_()
        let ln = try leaf.layerNorm([8])
        let att = try Tensor.scaledDotProductAttention(query: ln, key: ln, value: leaf, isCausal: true)
        try assertClose(ln, torch["ln"], atol: 1e-5, "layer_norm")
        try assertClose(x.softmax(dim: -1), torch["sm"], atol: 1e-6, "softmax")
        try assertClose(att, torch["att"], atol: 1e-5, "causal sdpa")
        try (att * att).sum().backward()
        try assertClose(XCTUnwrap(leaf.grad), torch["grad"], atol: 1e-4, "gradient through sdpa and layer_norm")
    }

    func testConv2dMatchesTorch() throws {
        try manualSeed(12)
        let x = try Tensor.randn([2, 3, 9, 9]), w = try Tensor.randn([4, 3, 3, 3]), b = try Tensor.randn([4])
        let torch = try PyTorchBaseline.shared.run("O['y'] = F.conv2d(I['x'], I['w'], I['b'], stride=2, padding=1)",
                                                   inputs: ["x": x, "w": w, "b": b])
        try assertClose(x.conv2d(w, bias: b, stride: 2, padding: 1), torch["y"], atol: 1e-5, "conv2d")
    }

    /// linalg.svdvals in float64 (the Fréchet distance's square-root trace) equals PyTorch's to
    /// 1e-12 relative; a non-matrix is libtorch's error, not a crash.
    func testSingularValuesMatchTorch() throws {
        try manualSeed(13)
        let a = try Tensor.randn([7, 12], dtype: .float64)
        let torch = try PyTorchBaseline.shared.run("O['s'] = torch.linalg.svdvals(I['a'])", inputs: ["a": a])
        try assertClose(a.singularValues(), torch["s"], atol: 1e-12, rtol: 1e-12, "svdvals")
        XCTAssertThrowsError(try Tensor.zeros([3]).singularValues())
    }

    func testLibtorchErrorsBecomeSwiftErrors() throws {
        let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4, 5])
        XCTAssertThrowsError(try a.matmul(b)) { error in
            XCTAssertTrue("\(error)".contains("mat1 and mat2 shapes cannot be multiplied"), "\(error)")
        }
    }
}
