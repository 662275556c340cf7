import SwiftTorch
import TestSupport
import XCTest

/// The remaining functional families the model needs — RMS/group norm, einsum, resampling,
/// embeddings, masked attention, 3-D convolution and CPU autocast — against the same calls
/// in torch on the same inputs. Float32 tolerances are round-off bounds for unit-scale data.
final class NormsResamplingTests: XCTestCase {
    func testRmsNormGroupNormAndEinsum() throws {
        try manualSeed(21)
        let x = try Tensor.randn([2, 4, 6, 6]), w = try Tensor.randn([6]), g = try Tensor.randn([4])
        let a = try Tensor.randn([2, 3, 5]), b = try Tensor.randn([2, 5, 7])
        let torch = try PyTorchBaseline.shared.run("""
        O['rms'] = F.rms_norm(I['x'], [6], I['w'], eps=1e-6)
        O['rms_default_eps'] = F.rms_norm(I['x'], [6])
        O['gn'] = F.group_norm(I['x'], 2, I['g'], I['g'] * 0.5, eps=1e-6)
        O['ein'] = torch.einsum('bij,bjk->bik', I['a'], I['b'])
        O['ein_outer'] = torch.einsum('i,j->ij', I['w'], I['g'])
        """, inputs: ["x": x, "w": w, "g": g, "a": a, "b": b])
        try assertClose(x.rmsNorm([6], weight: w, eps: 1e-6), torch["rms"], atol: 1e-5, "rms_norm")
        try assertClose(x.rmsNorm([6]), torch["rms_default_eps"], atol: 1e-5, "rms_norm, default eps")
        try assertClose(x.groupNorm(groups: 2, weight: g, bias: g * 0.5, eps: 1e-6), torch["gn"], atol: 1e-5, "group_norm")
        try assertClose(Tensor.einsum("bij,bjk->bik", [a, b]), torch["ein"], atol: 1e-5, "batched einsum")
        try assertClose(Tensor.einsum("i,j->ij", [w, g]), torch["ein_outer"], atol: 1e-6, "outer einsum")
    }

    func testInterpolateEveryModeBySizeAndScale() throws {
        try manualSeed(22)
        let x = try Tensor.randn([1, 2, 5, 7])
        let torch = try PyTorchBaseline.shared.run("""
        x = I['x']
        O['nearest_size'] = F.interpolate(x, size=(10, 3), mode='nearest')
        O['nearest_scale'] = F.interpolate(x, scale_factor=2.0, mode='nearest')
        O['bilinear'] = F.interpolate(x, size=(8, 9), mode='bilinear', align_corners=False)
        O['bilinear_ac'] = F.interpolate(x, scale_factor=(1.5, 0.5), mode='bilinear', align_corners=True)
        O['bicubic'] = F.interpolate(x, size=(4, 11), mode='bicubic', align_corners=False)
        O['area'] = F.interpolate(x, size=(2, 3), mode='area')
        """, inputs: ["x": x])
        try assertClose(x.interpolate(size: [10, 3]), torch["nearest_size"], atol: 0, "nearest by size")
        try assertClose(x.interpolate(scaleFactor: [2, 2]), torch["nearest_scale"], atol: 0, "nearest by scale")
        try assertClose(x.interpolate(size: [8, 9], mode: .bilinear, alignCorners: false), torch["bilinear"], atol: 1e-6, "bilinear")
        try assertClose(x.interpolate(scaleFactor: [1.5, 0.5], mode: .bilinear, alignCorners: true), torch["bilinear_ac"],
                        atol: 1e-6, "bilinear, align_corners, anisotropic scale")
        try assertClose(x.interpolate(size: [4, 11], mode: .bicubic, alignCorners: false), torch["bicubic"], atol: 1e-5, "bicubic")
        try assertClose(x.interpolate(size: [2, 3], mode: .area), torch["area"], atol: 1e-6, "area")
    }

    func testEmbeddingAndMaskedAttention() throws {
        try manualSeed(23)
        let table = try Tensor.randn([10, 4]), ids = try Tensor.randint(0, 10, [3, 5])
        let q = try Tensor.randn([2, 2, 5, 8]), k = try Tensor.randn([2, 2, 6, 8]), v = try Tensor.randn([2, 2, 6, 8])
        let allowed = try Tensor.rand([5, 6]).gt(0.3)
        let bias = try Tensor.randn([2, 1, 5, 6])
        let torch = try PyTorchBaseline.shared.run("""
        O['emb'] = F.embedding(I['ids'], I['table'])
        mask = I['allowed'].bool()
        O['bool'] = F.scaled_dot_product_attention(I['q'], I['k'], I['v'], attn_mask=mask)
        O['float'] = F.scaled_dot_product_attention(I['q'], I['k'], I['v'], attn_mask=I['bias'], scale=0.2)
        """, inputs: ["table": table, "ids": ids, "q": q, "k": k, "v": v, "allowed": allowed.to(.uint8), "bias": bias])
        try assertExactlyEqual(Tensor.embedding(table, indices: ids), torch["emb"], "embedding lookup")
        try assertClose(Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: allowed), torch["bool"],
                        atol: 1e-5, "sdpa with a boolean mask")
        try assertClose(Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: bias, scale: 0.2), torch["float"],
                        atol: 1e-5, "sdpa with an additive mask and explicit scale")
    }

    func testConv3dAndCpuAutocastMatchTorch() throws {
        try manualSeed(24)
        let x = try Tensor.randn([1, 2, 4, 6, 6]), w = try Tensor.randn([3, 2, 2, 3, 3]), b = try Tensor.randn([3])
        let m1 = try Tensor.randn([16, 32]), m2 = try Tensor.randn([32, 8])
        let torch = try PyTorchBaseline.shared.run("""
        O['conv3d'] = F.conv3d(I['x'], I['w'], I['b'], stride=1, padding=1)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            y = I['m1'] @ I['m2']
            O['autocast_mm'] = y
            O['autocast_softmax'] = torch.softmax(y, dim=-1)
        """, inputs: ["x": x, "w": w, "b": b, "m1": m1, "m2": m2])
        try assertClose(x.conv3d(w, bias: b, padding: 1), torch["conv3d"], atol: 1e-5, "conv3d")
        let (mm, sm) = try withAutocast(.cpu, dtype: .bfloat16) {
            let y = try m1.matmul(m2)
            return (y, try y.softmax(dim: -1))
        }
        XCTAssertEqual(mm.dtype, .bfloat16, "autocast runs matmul in bf16")
        // Same kernels on the same bf16-rounded inputs: bitwise equal, not merely close.
        try assertExactlyEqual(mm, torch["autocast_mm"], "matmul under CPU bf16 autocast")
        try assertExactlyEqual(sm, torch["autocast_softmax"], "softmax under autocast keeps torch's output dtype")
    }
}
