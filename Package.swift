// swift-tools-version:5.9
// NanoWM in Swift: a C++ shim over libtorch (CTorchShim) → a Swift tensor layer (SwiftTorch)
// → the world model (NanoWM) → the `nanowm` command line (Sources/Tools).
import Foundation
import PackageDescription

// libtorch is found the way tch-rs users expect:
//   1. LIBTORCH=/path — a libtorch folder or a PyTorch install's `site-packages/torch`
//      (CUDA builds included);
//   2. else `.libtorch`, the link `scripts/setup` makes to the project environment's torch.
// When neither holds libtorch, the shim's first line fails the build with the fix.
let root = Context.packageDirectory
let libtorch: String? = {
    let candidates = [Context.environment["LIBTORCH"], root + "/.libtorch"]
    return candidates.compactMap { $0 }.first { !$0.isEmpty && FileManager.default.fileExists(atPath: $0 + "/include/ATen/ATen.h") }
}()

// A portable build (NANOWM_PORTABLE=1; `scripts/bundle` makes it) carries no libtorch and
// none of the Debian libraries a GPU machine may lack. It reaches libtorch only through the
// shim as a shared library, `libctorch.so` (cpp/), found at run time in `../lib` beside the
// binary, so one binary runs against a shim built on another machine for that machine's
// PyTorch. Its videos and HDF5 files are refused with a one-line error (the OpenCV, FFmpeg and
// HDF5 shims compile to `unavailable.c`); Chipmunk, MuJoCo and the compressors travel with it.
let portable = Context.environment["NANOWM_PORTABLE"] == "1"
func sources(in folder: String, ending suffixes: [String]) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/Sources/" + folder)) ?? []
    return names.filter { name in suffixes.contains { name.hasSuffix($0) } }.sorted()
}
// What a portable build leaves out of a shim: every source but the one it keeps (the stubs of
// `unavailable.c`, or the torch shim's placeholder, whose code is in libctorch.so).
func portableExcludes(_ folder: String, keeping kept: String = "unavailable.c") -> [String] {
    portable ? sources(in: folder, ending: [".c", ".cpp"]).filter { $0 != kept } : []
}

var shimFlags: [CXXSetting] = []
var linkFlags: [LinkerSetting] = []
if portable {
    // Linked against the libctorch.so that scripts/bundle builds here; the one in the bundle's
    // lib/ (built on the machine that runs it) is what loads.
    linkFlags = [.unsafeFlags(["-L" + root + "/cpp/build"]), .linkedLibrary("ctorch")]
} else if let libtorch {
    let lib = libtorch + "/lib"
    shimFlags = [.unsafeFlags(["-isystem", libtorch + "/include",
                               "-isystem", libtorch + "/include/torch/csrc/api/include"])]
    var flags = ["-L" + lib, "-Xlinker", "-rpath", "-Xlinker", lib]
    // The CUDA library is only reached through registration at load time, so a linker
    // that drops "unused" libraries would silently lose CUDA (tch-rs's classic trap).
    if FileManager.default.fileExists(atPath: lib + "/libtorch_cuda.so") {
        flags += ["-Xlinker", "--no-as-needed", "-ltorch_cuda"]
    }
    linkFlags = [.unsafeFlags(flags), .linkedLibrary("torch"), .linkedLibrary("torch_cpu"),
                 .linkedLibrary("c10")]
    // NCCL process groups, opt-in (CTORCH_NCCL=1) with a CUDA libtorch: NCCL's and the CUDA
    // runtime's headers come from the pip wheels beside torch (site-packages/nvidia/*/include).
    if Context.environment["CTORCH_NCCL"] == "1", FileManager.default.fileExists(atPath: lib + "/libtorch_cuda.so") {
        let nvidia = libtorch + "/../nvidia"
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: nvidia)) ?? []).sorted().map { nvidia + "/" + $0 + "/include" }
        // The wheels' CUDA headers lack nvcc's crt/ folder, which cuda_runtime.h includes: a CUDA
        // toolkit's, when there is one, else Triton's copy (as cpp/Makefile does).
        let toolkit = [Context.environment["CUDA_HOME"].map { $0 + "/include" }, "/usr/local/cuda/include",
                       libtorch + "/../triton/backends/nvidia/include"].compactMap { $0 }
        let includes = (folders + toolkit).filter { FileManager.default.fileExists(atPath: $0) }
        shimFlags += [.define("CTORCH_WITH_NCCL"), .unsafeFlags(includes.flatMap { ["-isystem", $0] })]
    }
} else {
    shimFlags = [.define("CTORCH_LIBTORCH_MISSING")]
}

let package = Package(
    name: "NanoWM",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SwiftTorch", targets: ["SwiftTorch"]),
        .library(name: "NanoWM", targets: ["NanoWM"]),
        .executable(name: "nanowm", targets: ["nanowm"]),
        .executable(name: "nanowm-bench", targets: ["nanowm-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.30.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
    ],
    targets: [
        .target(name: "CTorchShim", exclude: portableExcludes("CTorchShim", keeping: "in_libctorch.c"), cxxSettings: shimFlags, linkerSettings: linkFlags),
        .target(name: "SwiftTorch", dependencies: ["CTorchShim"]),
        // Python's own algorithms where the reference's results depend on them bit for bit:
        // NumPy's and CPython's Mersenne Twister draws, SHA-1 of Python reprs, json.dumps strings.
        .target(name: "PythonCompatible"),
        // Videos in through FFmpeg's libraries (libavformat/libavcodec/libswscale), videos and PNGs
        // out and drawing through OpenCV (libopencv-dev), in their own shim: CTorchShim stays libtorch only.
        .target(name: "CVideoShim", exclude: portableExcludes("CVideoShim"),
                cSettings: portable ? [.define("NANOWM_PORTABLE")] : [],
                cxxSettings: [.unsafeFlags(["-isystem", "/usr/include/opencv4"])],
                linkerSettings: portable ? [.linkedLibrary("z")] : [.linkedLibrary("opencv_videoio"), .linkedLibrary("opencv_imgcodecs"),
                                 .linkedLibrary("opencv_imgproc"), .linkedLibrary("opencv_core"),
                                 .linkedLibrary("avformat"), .linkedLibrary("avcodec"), .linkedLibrary("avutil"),
                                 .linkedLibrary("swscale")]),
        // Chipmunk2D (libchipmunk-dev), the physics engine under pymunk, for the PushT environment.
        .target(name: "CChipmunk", linkerSettings: [.linkedLibrary("chipmunk")]),
        // MuJoCo (libmujoco-dev) for the point maze, rendered offscreen through EGL (Mesa, no
        // display), which the shim opens at the first render rather than linking it.
        .target(name: "CMuJoCo", linkerSettings: [.linkedLibrary("mujoco"), .linkedLibrary("dl")]),
        // Snappy and Zstandard block decompression for the parquet reader (libsnappy-dev, libzstd-dev).
        .target(name: "CCompressionShim", linkerSettings: [.linkedLibrary("snappy"), .linkedLibrary("zstd"), .linkedLibrary("z")]),
        // CSGO's HDF5 files through the HDF5 C library (Debian libhdf5-dev, serial build).
        .target(name: "CHDF5Shim", exclude: portableExcludes("CHDF5Shim"),
                cSettings: portable ? [.define("NANOWM_PORTABLE")] : [.unsafeFlags(["-I/usr/include/hdf5/serial"])],
                linkerSettings: portable ? [] : [.linkedLibrary("hdf5_serial")]),
        // Hydra-style composition, the YAML reader and writer, and what this build does with
        // each key: no model, data or training knowledge.
        .target(name: "NanoWMConfiguration", dependencies: ["SwiftTorch", "PythonCompatible", .product(name: "Yams", package: "Yams")]),
        // File formats with no world-model knowledge: NumPy, Parquet and HDF5 readers, images,
        // videos and plots, TensorBoard event files, progress bars.
        .target(name: "NanoWMFormats", dependencies: ["SwiftTorch", "CVideoShim", "CCompressionShim", "CHDF5Shim",
                                                      .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The world model and what it stands on: the network, diffusion and flow matching,
        // codecs, datasets, checkpoints, sampling, and the planning environments' simulators.
        .target(name: "NanoWMCore", dependencies: ["SwiftTorch", "PythonCompatible", "NanoWMConfiguration", "NanoWMFormats", "CChipmunk", "CMuJoCo"]),
        // Runs: training, evaluation, planning, rollouts and the quickstart, from a configuration.
        .target(name: "NanoWM", dependencies: ["SwiftTorch", "PythonCompatible", "NanoWMConfiguration", "NanoWMFormats", "NanoWMCore"]),
        // Runs served to the browser: `nanowm play`'s web server (Hummingbird and its
        // WebSocket package) and `nanowm view`'s point-cloud viewer, with their pages.
        .target(name: "NanoWMWeb", dependencies: ["NanoWM", "NanoWMCore", "NanoWMFormats",
                                                  .product(name: "Hummingbird", package: "hummingbird"),
                                                  .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket")]),
        .executableTarget(
            name: "nanowm",
            dependencies: ["NanoWM", "NanoWMCore", "NanoWMConfiguration", "NanoWMFormats", "NanoWMWeb", "SwiftTorch",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools",
            // A portable binary finds libctorch.so and the libraries it carries in ../lib; an
            // RPATH (not RUNPATH) so MuJoCo's own dependencies are found there too.
            linkerSettings: portable ? [.unsafeFlags(["-Xlinker", "--disable-new-dtags", "-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib"])] : []),
        // Benchmarks against PyTorch measured in the same run (never timed tests).
        .executableTarget(name: "nanowm-bench", dependencies: ["NanoWM", "NanoWMCore", "NanoWMConfiguration", "NanoWMFormats", "NanoWMWeb", "SwiftTorch",
                                                             .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")], path: "bench",
                          exclude: ["torch_baseline.py"]),
        // Shared test helpers (PyTorch baseline runner, tolerances) live here and only here.
        .target(name: "TestSupport", dependencies: ["SwiftTorch"], path: "Tests/Support",
                exclude: ["torch_worker.py", "torchvision_standin.py"]),
        .testTarget(name: "SwiftTorchTests", dependencies: ["SwiftTorch", "TestSupport"]),
        .testTarget(name: "NanoWMTests", dependencies: ["NanoWM", "NanoWMCore", "NanoWMConfiguration", "NanoWMFormats", "PythonCompatible", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)

// In-process fuzz targets (libFuzzer), built only by scripts/fuzz with NANOWM_FUZZ=1 and
// `--sanitize fuzzer`: a normal build or test run never compiles them.
if Context.environment["NANOWM_FUZZ"] == "1" {
    package.targets += [
        // Valid zip containers around fuzzed entries, and the scratch file the targets write.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "CheckpointFuzz", dependencies: ["SwiftTorch", "FuzzSupport"], path: "Fuzz/CheckpointFuzz"),
        .executableTarget(name: "ConfigFuzz", dependencies: ["NanoWMConfiguration"], path: "Fuzz/ConfigFuzz"),
        .executableTarget(name: "ParquetFuzz", dependencies: ["NanoWMFormats", "FuzzSupport"], path: "Fuzz/ParquetFuzz"),
        .executableTarget(name: "HDF5Fuzz", dependencies: ["NanoWMCore", "NanoWMFormats", "FuzzSupport"], path: "Fuzz/HDF5Fuzz"),
        .executableTarget(name: "PickleFuzz", dependencies: ["SwiftTorch", "FuzzSupport"], path: "Fuzz/PickleFuzz"),
        .executableTarget(name: "NumpyFuzz", dependencies: ["SwiftTorch", "FuzzSupport"], path: "Fuzz/NumpyFuzz"),
        .executableTarget(name: "MP4Fuzz", dependencies: ["NanoWMFormats", "FuzzSupport"], path: "Fuzz/MP4Fuzz"),
        .executableTarget(name: "TorchScriptFuzz", dependencies: ["SwiftTorch", "FuzzSupport"], path: "Fuzz/TorchScriptFuzz"),
    ]
}
