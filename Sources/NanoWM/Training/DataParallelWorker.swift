import Foundation
import SwiftTorch

/// One process of a data-parallel run, set up from its launcher's environment (torchrun,
/// `nanowm train --nproc-per-node`, or SLURM's srun): the process group, and the device or
/// CPU-thread share this process takes so the workers on a machine do not contend.
public struct DataParallelWorker {
    public let group: ProcessGroup
    public let device: Device
    /// The intra-op threads this process uses on the CPU.
    public let threads: Int

    /// Joins the job the environment describes; nil for a single process (no launcher, or
    /// SLURM's world of one, a batch job's own task). torchrun's world of one forms a group of
    /// one, as torch.distributed does under `torchrun --nproc-per-node 1`: on a machine with one
    /// GPU, the one way to exercise NCCL. A CUDA request becomes `cuda:LOCAL_RANK`; on the CPU
    /// each worker takes its share of the cores, unless OMP_NUM_THREADS says otherwise (torchrun
    /// sets it to 1).
    public static func join(device requested: Device, timeout: Double,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DataParallelWorker? {
        guard let launch = try DistributedLaunch.fromEnvironment(environment),
              launch.worldSize > 1 || launch.source == "torchrun" else { return nil }
        try LocalLauncher.bindWorkerToParent(environment: environment)
        var device = requested
        if case .cuda = requested {
            device = cudaDevice(localRank: launch.localRank, visible: Torch.cudaDeviceCount)
            try device.ensureAvailable()
        } else if environment["OMP_NUM_THREADS"] == nil {
            try Torch.setNumThreads(launch.cpuThreadShare())
        }
        let group = try ProcessGroup(launch, backend: .for(device), timeout: timeout)
        return DataParallelWorker(group: group, device: device, threads: try Torch.numThreads)
    }

    /// The GPU of the process with `localRank` on its node, `visible` GPUs seen: `cuda:LOCAL_RANK`
    /// when the node's GPUs are all visible (torchrun, `srun --gpus-per-node`), and `cuda:0` when
    /// the launcher bound one GPU to each process (`srun --gpus-per-task=1`, a `--gpu-bind`
    /// that leaves one), which then sees it as its only device. Anything else (more processes
    /// than GPUs) stays `cuda:LOCAL_RANK`, which `ensureAvailable` refuses with the count.
    static func cudaDevice(localRank: Int, visible: Int) -> Device {
        visible == 1 ? .cuda(0) : .cuda(localRank)
    }
}
