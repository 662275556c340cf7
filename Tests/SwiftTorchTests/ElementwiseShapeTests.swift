import SwiftTorch
import TestSupport
import XCTest

/// Elementwise math, broadcasting, type promotion, reductions and shape ops against torch on
/// the same inputs. Tolerance 1e-6 absolute (float32 kernels are the same libtorch's).
final class ElementwiseShapeTests: XCTestCase {
    func testBroadcastingPromotionAndUnaryMath() throws {
        try manualSeed(31)
        let a = try Tensor.randn([3, 1, 4]), b = try Tensor.randn([5, 1])
        let i = try Tensor.arange(0, 4, dtype: .int64)
        let torch = try PyTorchBaseline.shared.run("""
        a, b, i = I['a'], I['b'], I['i']
        O['mix'] = (a + b) * 2.5 - a / (b.abs() + 1)
        O['promote'] = i * 0.5
        O['intdiv'] = i + 3
        O['unary'] = a.exp().sqrt().tanh() + a.sin() - a.clamp(min=-0.5, max=0.5)
        O['cmp'] = (a > 0)
        O['rdiv'] = 2.0 / (a.abs() + 1)
        """, inputs: ["a": a, "b": b, "i": i])
        try assertClose((a + b) * 2.5 - a / (b.abs() + 1), torch["mix"], atol: 1e-6, "broadcast arithmetic")
        try assertExactlyEqual(i * 0.5, torch["promote"], "int64 * double promotes to float32")
        try assertExactlyEqual(i + 3, torch["intdiv"], "int64 + int stays int64")
        try assertClose(a.exp().sqrt().tanh() + a.sin() - a.clamp(min: -0.5, max: 0.5), torch["unary"], atol: 1e-6, "unary chain")
        try assertExactlyEqual(a.gt(.double(0)), torch["cmp"], "comparison gives bool")
        try assertClose(2.0 / (a.abs() + 1), torch["rdiv"], atol: 1e-6, "scalar / tensor")
    }

    func testReductions() throws {
        try manualSeed(32)
        let x = try Tensor.randn([4, 5, 6])
        let torch = try PyTorchBaseline.shared.run("""
        x = I['x']
        O['sum'] = x.sum(dim=(0, 2)); O['mean'] = x.mean(dim=1, keepdim=True)
        O['var'] = x.var(dim=-1); O['std0'] = x.std(dim=0, correction=0)
        O['lse'] = x.logsumexp(dim=1); O['argmax'] = x.argmax(dim=2); O['norm'] = x.norm(dim=-1)
        O['cumsum'] = x.cumsum(dim=1)
        """, inputs: ["x": x])
        try assertClose(x.sum(dims: [0, 2]), torch["sum"], atol: 1e-5, "sum")
        try assertClose(x.mean(dim: 1, keepdim: true), torch["mean"], atol: 1e-6, "mean keepdim")
        try assertClose(x.variance(dims: [-1]), torch["var"], atol: 1e-6, "var")
        try assertClose(x.std(dims: [0], correction: 0), torch["std0"], atol: 1e-6, "std correction 0")
        try assertClose(x.logsumexp(dims: [1]), torch["lse"], atol: 1e-6, "logsumexp")
        try assertExactlyEqual(x.argmax(dim: 2), torch["argmax"], "argmax")
        try assertClose(x.norm(dims: [-1]), torch["norm"], atol: 1e-6, "norm")
        try assertClose(x.cumsum(dim: 1), torch["cumsum"], atol: 1e-5, "cumsum")
    }

    func testShapeOps() throws {
        let x = try Tensor.arange(0, 24, dtype: .float32).reshape(2, 3, 4)
        let torch = try PyTorchBaseline.shared.run("""
        x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
        O['perm'] = x.permute(2, 0, 1).contiguous()
        O['cat'] = torch.cat([x, x * 2], dim=1); O['stack'] = torch.stack([x, x], dim=-1)
        O['chunk1'] = x.chunk(2, dim=2)[1].contiguous(); O['slice'] = x[:, 1:, ::2].contiguous()
        O['gather'] = x.gather(2, torch.tensor([[[3], [0], [1]], [[2], [2], [0]]]))
        O['isel'] = x.index_select(1, torch.tensor([2, 0]))
        O['tril'] = torch.ones(4, 4).tril(); O['roll'] = x.roll(1, 2)
        O['rep'] = x.repeat_interleave(2, dim=0); O['pad'] = F.pad(x, (1, 2))
        O['flat'] = x.flatten(1); O['expand'] = x[:, :1].expand(2, 3, 4).contiguous()
        """)
        try assertExactlyEqual(x.permute(2, 0, 1).contiguous(), torch["perm"], "permute")
        try assertExactlyEqual(Tensor.cat([x, x * 2], dim: 1), torch["cat"], "cat")
        try assertExactlyEqual(Tensor.stack([x, x], dim: -1), torch["stack"], "stack")
        try assertExactlyEqual(x.chunk(2, dim: 2)[1].contiguous(), torch["chunk1"], "chunk")
        try assertExactlyEqual(x.slice(dim: 1, start: 1).slice(dim: 2, step: 2).contiguous(), torch["slice"], "slice")
        let index = try Tensor([3, 0, 1, 2, 2, 0] as [Int64], shape: [2, 3, 1])
        try assertExactlyEqual(x.gather(dim: 2, index: index), torch["gather"], "gather")
        try assertExactlyEqual(x.indexSelect(dim: 1, index: Tensor([2, 0] as [Int64], shape: [2])), torch["isel"], "index_select")
        try assertExactlyEqual(Tensor.ones([4, 4]).tril(), torch["tril"], "tril")
        try assertExactlyEqual(x.roll(shifts: [1], dims: [2]), torch["roll"], "roll")
        try assertExactlyEqual(x.repeatInterleave(2, dim: 0), torch["rep"], "repeat_interleave")
        try assertExactlyEqual(x.pad([1, 2]), torch["pad"], "pad")
        try assertExactlyEqual(x.flatten(start: 1), torch["flat"], "flatten")
        try assertExactlyEqual(x.slice(dim: 1, end: 1).expand(2, 3, 4).contiguous(), torch["expand"], "expand")
    }
}
