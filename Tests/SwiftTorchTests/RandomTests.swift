import SwiftTorch
import TestSupport
import XCTest

/// Seeded sampling must reproduce PyTorch's numbers exactly on CPU.
final class RandomTests: XCTestCase {
    func testSeededDrawsEqualPyTorchExactly() throws {
        let torch = try PyTorchBaseline.shared.run("""
        torch.manual_seed(1234)
        O['randn'] = torch.randn(3, 17)
        O['rand'] = torch.rand(5, 4, dtype=torch.float64)
        O['randint'] = torch.randint(-5, 9, (6, 7))
        O['randperm'] = torch.randperm(40)
        O['randn_big'] = torch.randn(2, 3, 8, 8)
        O['normal_'] = torch.empty(33).normal_(0.5, 2.0)
        O['uniform_'] = torch.empty(4, 4).uniform_(-3, 3)
        """)
        try manualSeed(1234)
        try assertExactlyEqual(Tensor.randn([3, 17]), torch["randn"], "randn")
        try assertExactlyEqual(Tensor.rand([5, 4], dtype: .float64), torch["rand"], "rand")
        try assertExactlyEqual(Tensor.randint(-5, 9, [6, 7]), torch["randint"], "randint")
        try assertExactlyEqual(Tensor.randperm(40), torch["randperm"], "randperm")
        try assertExactlyEqual(Tensor.randn([2, 3, 8, 8]), torch["randn_big"], "randn (vectorised path)")
        try assertExactlyEqual(Tensor.empty([33]).normal_(mean: 0.5, std: 2.0), torch["normal_"], "normal_")
        try assertExactlyEqual(Tensor.empty([4, 4]).uniform_(-3, 3), torch["uniform_"], "uniform_")
    }

    func testExplicitGeneratorIsIndependentOfTheGlobalOne() throws {
        let torch = try PyTorchBaseline.shared.run("""
        g = torch.Generator().manual_seed(7)
        torch.manual_seed(0)
        a = torch.randn(4, generator=g); _ = torch.randn(100); b = torch.randn(4, generator=g)
        O['a'] = a; O['b'] = b
        """)
        let g = try Generator(seed: 7)
        try manualSeed(0)
        let a = try Tensor.randn([4], generator: g)
        _ = try Tensor.randn([100])
        let b = try Tensor.randn([4], generator: g)
        try assertExactlyEqual(a, torch["a"])
        try assertExactlyEqual(b, torch["b"])
        XCTAssertEqual(try g.initialSeed, 7)
    }

    func testGeneratorStateRestoresTheSequence() throws {
        let g = try Generator(seed: 99)
        _ = try Tensor.randn([10], generator: g)
        let saved = try g.state()
        let first = try Tensor.randn([6], generator: g)
        try g.setState(saved)
        try assertExactlyEqual(Tensor.randn([6], generator: g), first)

        let globalState = try Generator.defaultCPU.state()
        let x = try Tensor.rand([5])
        try Generator.defaultCPU.setState(globalState)
        try assertExactlyEqual(Tensor.rand([5]), x)
    }
}
