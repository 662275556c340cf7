import SwiftTorch

/// The float32 matmul precision the reference runs with. Its entry points (main.py for
/// training, evaluation and planning; rollout.py for rollouts) call
/// `torch.set_float32_matmul_precision('high')`: TF32 tensor cores on CUDA. Work that puts a
/// model on a device calls `apply(for:)` once, here alone. On the CPU it changes no result, so
/// CPU runs keep libtorch's default and their parity with PyTorch on every CPU;
/// `NVIDIA_TF32_OVERRIDE=0` turns TF32 off on CUDA for a bit-level comparison.
enum ReferenceMatmulPrecision {
    static func apply(for device: Device) throws {
        if case .cuda = device { try Torch.setFloat32MatmulPrecision(.high) }
    }
}
