import SwiftTorch
import TestSupport
import XCTest

/// Generators belong to a device (#24). No GPU is lent to CI, so `meta` stands in for CUDA:
/// libtorch itself accepts a CPU generator for a `meta` draw (it refuses one only for CUDA),
/// and SwiftTorch checks the placement for every device, so code that makes its generator
/// without the draw's device fails here as it would on a GPU.
final class GeneratorPlacementTests: XCTestCase {
    private let refusal = "Expected a 'meta' device type for generator but found 'cpu'"

    private func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }

    func testEveryDrawRefusesAGeneratorOfAnotherDevice() throws {
        let cpu = try Generator(seed: 1)
        XCTAssertEqual(message { try Tensor.randn([2, 3], device: .meta, generator: cpu) }, refusal)
        XCTAssertEqual(message { try Tensor.rand([2], device: .meta, generator: cpu) }, refusal)
        XCTAssertEqual(message { try Tensor.randint(0, 5, [2], device: .meta, generator: cpu) }, refusal)
        XCTAssertEqual(message { try Tensor.randperm(4, device: .meta, generator: cpu) }, refusal)
        XCTAssertEqual(message { try Tensor.empty([3], device: .meta).uniform_(generator: cpu) }, refusal)
        XCTAssertEqual(message { try Tensor.empty([3], device: .meta).normal_(generator: cpu) }, refusal)
        // The default CPU generator is a CPU generator too.
        XCTAssertEqual(message { try Tensor.randn([2], device: .meta, generator: .defaultCPU) }, refusal)
        // And the other way round.
        let meta = try Generator(seed: 1, device: .meta)
        XCTAssertEqual(message { try Tensor.randn([2], generator: meta) },
                       "Expected a 'cpu' device type for generator but found 'meta'")
        XCTAssertEqual(message { try Tensor.empty([3]).normal_(generator: meta) },
                       "Expected a 'cpu' device type for generator but found 'meta'")
    }

    /// The placement double: draws on `meta` with it give `meta` tensors; it remembers its seed
    /// as its state. This test fails if the generator is made without the device.
    func testAMetaGeneratorServesMetaDraws() throws {
        let g = try Generator(seed: 42, device: .meta)
        XCTAssertEqual(g.device, .meta)
        XCTAssertEqual(try Tensor.randn([2, 3], device: .meta, generator: g).device, .meta)
        XCTAssertEqual(try Tensor.rand([2], device: .meta, generator: g).shape, [2])
        XCTAssertEqual(try Tensor.randint(0, 5, [4], device: .meta, generator: g).device, .meta)
        // (randperm has no meta kernel in libtorch; its placement check is the others'.)
        XCTAssertEqual(try Tensor.empty([3], device: .meta).normal_(generator: g).device, .meta)
        XCTAssertEqual(try g.initialSeed, 42)

        let state = try g.state()
        XCTAssertEqual(state.dtype, .uint8)
        XCTAssertEqual(try state.toArray(UInt8.self), [42, 0, 0, 0, 0, 0, 0, 0])
        let other = try Generator(seed: 7, device: .meta)
        try other.setState(state)
        XCTAssertEqual(try other.initialSeed, 42)
        XCTAssertTrue(message { try other.setState(try Tensor.zeros([3], dtype: .uint8)) }.hasPrefix("a meta generator's state is its seed's 8 bytes"))
    }

    func testDefaultGenerators() throws {
        XCTAssertTrue(try Generator.default(for: .cpu) === Generator.defaultCPU)
        XCTAssertEqual(Generator.defaultCPU.device, .cpu)
        XCTAssertTrue(message { try Generator.default(for: .meta) }.hasPrefix("meta has no default generator"))
        if !Torch.isCUDAAvailable {
            XCTAssertThrowsError(try Generator.default(for: .cuda(0))) { error in
                guard case TorchError.deviceUnavailable = error else { return XCTFail("\(error)") }
            }
        }
    }

    /// `GeneratorStates` covers the CPU and every CUDA device, puts their states back after the
    /// work and after a throw, and reseeding all of them (`manualSeed`) inside is undone too.
    func testGeneratorStatesPutEveryDefaultGeneratorBack() throws {
        XCTAssertEqual(GeneratorStates.devices, [.cpu] + (0..<Torch.cudaDeviceCount).map { Device.cuda($0) })
        let captured = try GeneratorStates.capture()
        XCTAssertEqual(captured.states.map(\.device), GeneratorStates.devices)

        try manualSeed(5)
        let devices = GeneratorStates.devices
        func draws() throws -> [Tensor] { try devices.map { try Tensor.rand([4], device: $0) } }
        let before = try GeneratorStates.capture()
        let expected = try draws()
        try before.restore()

        let inside = try GeneratorStates.preserving { () -> Tensor in
            try manualSeed(123)
            return try Tensor.randn([50])
        }
        XCTAssertEqual(inside.shape, [50])
        for (a, b) in zip(try draws(), expected) { try assertExactlyEqual(a, b, "after preserving") }

        try before.restore()
        struct Failure: Error {}
        XCTAssertThrowsError(try GeneratorStates.preserving { () -> Int in
            for device in devices { _ = try Tensor.rand([10], device: device) }
            throw Failure()
        })
        for (a, b) in zip(try draws(), expected) { try assertExactlyEqual(a, b, "after a throw") }
    }

    /// On a machine with CUDA: a CUDA draw takes a CUDA generator only, libtorch's and ours
    /// alike, and the CUDA default generator's state comes back. Without one (CI): asking for a
    /// CUDA generator is the one-line "no CUDA device" error, never a crash, and no CUDA state is
    /// captured. (Not a skip: CI counts a skipped test as a failure.)
    func testCUDAGenerators() throws {
        let cuda = Device.cuda(0)
        guard Torch.isCUDAAvailable else {
            XCTAssertTrue(message { try Generator(seed: 1, device: cuda) }.contains("sees no CUDA device"))
            XCTAssertTrue(message { try Generator.default(for: cuda) }.contains("sees no CUDA device"))
            XCTAssertNil(try GeneratorStates.capture()[cuda])
            return
        }
        XCTAssertEqual(message { try Tensor.randn([2], device: cuda, generator: try Generator(seed: 1)) },
                       "Expected a 'cuda' device type for generator but found 'cpu'")
        let g = try Generator(seed: 3, device: cuda)
        let a = try Tensor.randn([8], device: cuda, generator: g)
        XCTAssertEqual(a.device, cuda)
        let state = try g.state()
        let b = try Tensor.randn([8], device: cuda, generator: g)
        try g.setState(state)
        try assertExactlyEqual(try Tensor.randn([8], device: cuda, generator: g).to(.cpu), try b.to(.cpu))

        let saved = try GeneratorStates.capture()
        XCTAssertNotNil(saved[cuda])
        let x = try Tensor.rand([6], device: cuda)
        try saved.restore()
        try assertExactlyEqual(try Tensor.rand([6], device: cuda).to(.cpu), try x.to(.cpu))
    }
}
