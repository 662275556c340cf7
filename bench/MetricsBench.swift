import Foundation
import NanoWM
import SwiftTorch

/// Metric throughput in frames per second: LPIPS (VGG) and FID's Inception features as
/// `nanowm metrics` runs them (exported TorchScript, upstream's resizing and value mapping
/// around them) against the same networks and weights in PyTorch eager, as upstream runs
/// lpips and pytorch-fid. Random weights (nothing is downloaded); 256×256 frames as upstream's.
func benchMetrics(threads: Int) throws {
    try Torch.setNumThreads(threads)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-metrics-bench-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let (lpipsFile, inceptionFile) = (folder.appendingPathComponent("lpips.pt").path, folder.appendingPathComponent("inception.pt").path)
    try runPython(nil, arguments: ["scripts/export_metric_nets.py", "lpips", lpipsFile, "--random-init", "1"])
    try runPython(nil, arguments: ["scripts/export_metric_nets.py", "inception", inceptionFile, "--random-init", "2"])
    let networks = try MetricNetworks(lpips: lpipsFile, inception: inceptionFile, i3d: nil)
    let batch = 4
    let x = try Tensor.rand([batch, 3, 256, 256]) * 2.0 - 1.0, y = try Tensor.rand([batch, 3, 256, 256]) * 2.0 - 1.0
    var ours: [String: Double] = [:]
    for _ in 0..<2 { _ = try networks.lpips!.distances(x, y); _ = try networks.inception!.features(x) }
    ours["lpips"] = try secondsPerIteration(1, repeats: 3) { _ = try networks.lpips!.distances(x, y) }
    ours["fid features"] = try secondsPerIteration(1, repeats: 3) { _ = try networks.inception!.features(x) }
    // Eager modules of the export script with the exported weights, fed as upstream feeds them.
    let setup = """
    import sys; sys.path.insert(0, 'scripts')
    import export_metric_nets as nets
    torch.set_grad_enabled(False)
    lp = nets.LPIPSVGG(); lp.load_state_dict(torch.jit.load('\(lpipsFile)').state_dict()); lp.eval()
    iv3 = nets.FIDInception(); iv3.load_state_dict(torch.jit.load('\(inceptionFile)').state_dict()); iv3.eval()
    x, y = torch.rand(\(batch), 3, 256, 256) * 2 - 1, torch.rand(\(batch), 3, 256, 256) * 2 - 1
    """
    let cases: [(String, String)] = [
        ("lpips", "lp(x, y)"),
        ("fid features", "iv3((F.interpolate(x, size=(299, 299), mode='bilinear', align_corners=False) + 1) / 2)"),
    ]
    let torch = try runTorchBaseline(["threads": threads, "cases": cases.map { name, statement in
        ["name": name, "setup": "import torch.nn.functional as F\n" + setup + "\nfor _ in range(2): \(statement)\n",
         "stmt": statement, "iters": 1, "repeats": 3] as [String: Any]
    }])
    print("\nMetric networks: frames/s (\(batch) frames of 256×256 per call, \(threads) thread(s), best of 3)")
    for (name, _) in cases {
        let python = torch[name] as? Double ?? .nan
        print("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0)
              + String(format: "nanowm %7.2f   PyTorch eager %7.2f   ratio %.2f", Double(batch) / ours[name]!, Double(batch) / python, python / ours[name]!))
    }
}
