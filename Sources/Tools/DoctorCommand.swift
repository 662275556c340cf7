import ArgumentParser
import NanoWM
import SwiftTorch
import NanoWMCore

/// Prints what this binary runs on, so a user can tell at a glance why a device is missing.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show the libtorch this binary uses, its threads, the CUDA devices it sees and its distributed backends.")

    func run() throws {
        print("nanowm \(NanoWMInfo.version)")
        print("libtorch \(Torch.version) (reference PyTorch \(NanoWMInfo.referenceTorchVersion))")
        print("intra-op threads: \(try Torch.numThreads)")
        let count = Torch.cudaDeviceCount
        print(count > 0 ? "CUDA devices: \(count)"
              : Torch.isCUDABuilt ? "CUDA devices: none visible (this libtorch has CUDA: check the driver, nvidia-smi and CUDA_VISIBLE_DEVICES)"
              : "CUDA devices: none (CPU only; rebuild with LIBTORCH=<a CUDA libtorch> for GPUs)")
        let backends = ProcessGroup.Backend.allCases.filter(\.isAvailable).map(\.rawValue)
        print("distributed backends: \(backends.joined(separator: ", ")) (c10d; multi-process training with --nproc-per-node, torchrun or srun)")
    }
}
