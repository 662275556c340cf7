import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import NanoWMFormats

/// LPIPS, FID and FVD against their definitions run live in Python (lpips' formula, pytorch-fid's
/// scipy `sqrtm` path, upstream's `fvd.py`), on randomly initialised networks exported by
/// scripts/export_metric_nets.py in the test run (no weights can be downloaded here), and the
/// `nanowm metrics` / `compare` command lines with their one-line errors.
final class EvaluationMetricsTests: XCTestCase {
    /// Relative agreement demanded of every metric with its Python definition.
    static let relativeTolerance = 1e-4

    /// Networks exported once per test process, each when first used (the Inception takes seconds).
    static let folder = try! TemporaryDirectory.removedAtExit("metric-nets")
    static let script = PyTorchBaseline.repositoryRoot.appendingPathComponent("scripts/export_metric_nets.py").path

    static func export(_ network: String, seed: Int) -> String {
        let path = folder.path("\(network).pt")
        _ = try! PyTorchBaseline.shared.run("""
        import subprocess, sys
        subprocess.run([sys.executable, \(pythonString(script)), '\(network)', \(pythonString(path)), '--random-init', '\(seed)'],
                       check=True, stdout=subprocess.DEVNULL)
        """)
        return path
    }

    static let lpipsFile = export("lpips", seed: 1)
    static let inceptionFile = export("inception", seed: 2)
    /// A stand-in for StyleGAN-V's I3D with its call signature (TorchScript compiles from
    /// source, so it is made by a script file of its own).
    static let i3dFile: String = {
        let path = folder.path("i3d.pt"), maker = folder.path("make_i3d.py")
        try! (i3dSource + "torch.jit.script(I3D().eval()).save(\(pythonString(path)))\n").write(toFile: maker, atomically: false, encoding: .utf8)
        _ = try! PyTorchBaseline.shared.run("import subprocess, sys\nsubprocess.run([sys.executable, \(pythonString(maker))], check=True)")
        return path
    }()

    /// 400 features that depend on every frame, on the value range and on the keyword
    /// arguments as upstream passes them.
    static let i3dSource = """
    import torch
    import torch.nn.functional as F
    class I3D(torch.nn.Module):
        def __init__(self):
            super().__init__()
            g = torch.Generator().manual_seed(3)
            self.conv = torch.nn.Conv3d(3, 8, kernel_size=(3, 8, 8), stride=(1, 8, 8))
            self.fc = torch.nn.Linear(8, 400)
            with torch.no_grad():
                for p in self.parameters():
                    p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        def forward(self, x, rescale: bool = False, resize: bool = False, return_features: bool = False):
            assert not rescale and resize and return_features
            x = F.interpolate(x, size=(x.shape[2], 224, 224), mode='trilinear', align_corners=False)
            h = torch.tanh(self.conv(x)).mean(dim=[2, 3, 4])
            return torch.tanh(self.fc(h)) * 3.0

    """

    var scratch: TemporaryDirectory!
    override func setUpWithError() throws { scratch = try TemporaryDirectory("metrics") }
    override func tearDown() { scratch.remove() }

    func assertRelative(_ actual: Double, _ expected: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRelativelyClose(actual, expected, Self.relativeTolerance, what, file: file, line: line)
    }

    /// pytorch-fid's `calculate_frechet_distance` and upstream's FVD expression, verbatim in
    /// structure, on features `a`, `b` (rows are samples).
    static let pythonFrechet = """
    import numpy as np, scipy.linalg
    def pytorch_fid(mu1, sigma1, mu2, sigma2, eps=1e-6):
        diff = mu1 - mu2
        covmean = scipy.linalg.sqrtm(sigma1.dot(sigma2))
        if not np.isfinite(covmean).all():
            offset = np.eye(sigma1.shape[0]) * eps
            covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
        if np.iscomplexobj(covmean):
            if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
                raise ValueError('imaginary component')
            covmean = covmean.real
        return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)
    def upstream_fvd(pred, true):
        mu_p, mu_t = np.mean(pred, axis=0), np.mean(true, axis=0)
        s_p, s_t = np.cov(pred, rowvar=False), np.cov(true, rowvar=False)
        m = np.square(mu_p - mu_t).sum()
        s = scipy.linalg.sqrtm(np.dot(s_p, s_t))
        return float(np.real(m + np.trace(s_p + s_t - s * 2)))
    def stats(x):
        return np.mean(x, axis=0), np.cov(x, rowvar=False)

    """

    func testFrechetDistanceEqualsPytorchFIDAndUpstreamFVD() throws {
        // More samples than dimensions, and fewer (rank-deficient covariances, as FID on 768
        // frames of 2048 features).
        for (samples, dims) in [(200, 64), (40, 64), (12, 64)] {
            try manualSeed(UInt64(samples))
            let a = try Tensor.randn([samples, dims], dtype: .float64)
            let b = try Tensor.randn([samples + 3, dims], dtype: .float64) * 1.3 + 0.2
            let python = try PyTorchBaseline.shared.run(Self.pythonFrechet + """
            a, b = I['a'].numpy(), I['b'].numpy()
            O['fid'] = torch.tensor(pytorch_fid(*stats(a), *stats(b)), dtype=torch.float64)
            O['fvd'] = torch.tensor(upstream_fvd(a, b), dtype=torch.float64)
            """, inputs: ["a": a, "b": b])
            let sa = try FrechetDistance.Statistics(a, what: "a", remedy: ""), sb = try FrechetDistance.Statistics(b, what: "b", remedy: "")
            assertRelative(try FrechetDistance.pytorchFID(sa, sb), try python["fid"]!.item(Double.self), "FID \(samples)×\(dims)")
            assertRelative(try FrechetDistance.upstreamFVD(sa, sb), try python["fvd"]!.item(Double.self), "FVD \(samples)×\(dims)")
            try assertClose(try sa.covariance(), try PyTorchBaseline.shared.run("import numpy as np\nO['c'] = torch.from_numpy(np.cov(I['a'].numpy(), rowvar=False))", inputs: ["a": a])["c"],
                            atol: 1e-12, "covariance = np.cov")
        }
        assertOneLineError({ try FrechetDistance.Statistics(try Tensor.zeros([1, 4]), what: "FID features of the predictions", remedy: "pass more clips") },
                           mentions: ["at least 2 samples", "pass more clips"])
    }

    func testLPIPSEqualsTheLPIPSFormula() throws {
        let path = Self.lpipsFile
        try manualSeed(7)
        let x = try Tensor.rand([3, 3, 40, 48]) * 2.0 - 1.0
        let y = try (x + Tensor.randn([3, 3, 40, 48]) * 0.2).clamp(min: -1, max: 1)
        let ours = try MetricNetworks(lpips: path, inception: nil, i3d: nil).lpips!.distances(x, y)
        // lpips.LPIPS(net='vgg', version='0.1') from its definition, on the exported weights.
        let python = try PyTorchBaseline.shared.run("""
        w = torch.jit.load(\(pythonString(path))).state_dict()
        def features(v):
            v = (v - torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)) / torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)
            taps, convs = [], [i for i in range(30) if f'features.{i}.weight' in w]
            for i in range(30):
                if i in convs:
                    v = F.conv2d(v, w[f'features.{i}.weight'], w[f'features.{i}.bias'], padding=1)
                elif i - 1 in convs:
                    v = F.relu(v)
                    if i in (3, 8, 15, 22, 29): taps.append(v)
                else:
                    v = F.max_pool2d(v, 2, 2)
            return taps
        def normalize(t): return t / (torch.sqrt(torch.sum(t ** 2, dim=1, keepdim=True)) + 1e-10)
        fx, fy = features(I['x']), features(I['y'])
        O['d'] = sum(F.conv2d((normalize(a) - normalize(b)) ** 2, w[f'lin{k}.model.1.weight']).mean(dim=[2, 3], keepdim=True)
                     for k, (a, b) in enumerate(zip(fx, fy))).flatten()
        """, inputs: ["x": x, "y": y])
        let expected = python["d"]!
        let relative = try maxAbsDifference(ours, expected) / expected.abs().max().item(Double.self)
        print("LPIPS: max relative difference \(relative) over \(try expected.toArray(Float.self))")
        XCTAssertLessThanOrEqual(relative, Self.relativeTolerance)
        XCTAssertGreaterThan(try expected.min().item(Double.self), 0)
    }

    /// Our networks against the libraries' own: pytorch-fid's `InceptionV3([3])` (FID variant,
    /// built by `fid_inception_v3` with the download replaced by the same random weights) and
    /// lpips' `LPIPS(net='vgg', version='0.1')` with the same weights, each run from the installed
    /// package's source on a stand-in holding torchvision's backbones
    /// (Tests/Support/torchvision_standin.py). Features and distances agree within 1e-5 relative.
    func testNetworksEqualTheirLibraries() throws {
        try manualSeed(11)
        let frames = try Tensor.rand([2, 3, 299, 299]) * 2.0 - 1.0
        let x = try Tensor.rand([3, 3, 64, 64]) * 2.0 - 1.0, y = try Tensor.rand([3, 3, 64, 64]) * 2.0 - 1.0
        let networks = try MetricNetworks(lpips: Self.lpipsFile, inception: Self.inceptionFile, i3d: nil)
        let ours = (fid: try networks.inception!.features(frames), lpips: try networks.lpips!.distances(x, y))
        let support = PyTorchBaseline.repositoryRoot.appendingPathComponent("Tests/Support").path
        let library = try PyTorchBaseline.shared.run("""
        import sys
        sys.path.insert(0, \(pythonString(support)))
        import torchvision_standin
        torchvision_standin.install()
        import pytorch_fid.inception as fid, lpips
        w = dict(torch.jit.load(\(pythonString(Self.inceptionFile))).state_dict())
        w['fc.weight'], w['fc.bias'] = torch.zeros(1008, 2048), torch.zeros(1008)  # the classifier pool3 never uses
        fid.load_state_dict_from_url = lambda *a, **k: w
        inception = fid.InceptionV3([3], resize_input=True, normalize_input=True).eval()
        net = lpips.LPIPS(pretrained=False, net='vgg', version='0.1', pnet_rand=True, verbose=False).eval()
        slices = [range(0, 4), range(4, 9), range(9, 16), range(16, 23), range(23, 30)]
        mapped = {}
        for k, v in torch.jit.load(\(pythonString(Self.lpipsFile))).state_dict().items():
            if k.startswith('features.'):
                i, name = int(k.split('.')[1]), k.split('.')[2]
                mapped[f'net.slice{next(n for n, r in enumerate(slices) if i in r) + 1}.{i}.{name}'] = v
            elif k in ('shift', 'scale'):
                mapped['scaling_layer.' + k] = v
            else:
                mapped[k] = v
                mapped['lins.' + k[3:]] = v  # lpips keeps its heads in a list as well
        net.load_state_dict(mapped, strict=True)
        with torch.no_grad():
            O['fid'] = inception((I['frames'] + 1) / 2)[0].flatten(1)
            O['lpips'] = net(I['x'], I['y']).flatten()
        """, inputs: ["frames": frames, "x": x, "y": y])
        for (name, mine, theirs) in [("FID features", ours.fid, library["fid"]!), ("LPIPS", ours.lpips, library["lpips"]!)] {
            XCTAssertEqual(mine.shape, theirs.shape, name)
            let relative = try maxAbsDifference(mine, theirs) / theirs.abs().max().item(Double.self)
            print("\(name) against the library: max relative difference \(relative)")
            XCTAssertLessThanOrEqual(relative, 1e-5, name)
        }
    }

    /// `nanowm metrics` end to end with all three networks on clips long enough for FVD, against
    /// upstream's pipeline in Python: `resize_video` to 299 / 224 (bilinear), [−1, 1] → [0, 1],
    /// the networks, np.mean / np.cov, and the Fréchet formulas.
    func testMetricsCommandEqualsUpstreamPipeline() throws {
        let (pred, gt) = (scratch.path("pred.safetensors"), scratch.path("gt.safetensors"))
        let (shortPred, shortGT) = (scratch.path("short_pred.safetensors"), scratch.path("short_gt.safetensors"))
        let python = try PyTorchBaseline.shared.run(Self.pythonFrechet + """
        from safetensors.torch import save_file
        from einops import rearrange
        g = torch.Generator().manual_seed(11)
        gt = torch.rand(2, 11, 3, 24, 24, generator=g) * 2 - 1
        pred = (gt + 0.3 * torch.randn(gt.shape, generator=g)).clamp(-1, 1)
        save_file({'frames': pred}, \(pythonString(pred))); save_file({'frames': gt}, \(pythonString(gt)))
        # FID on 3-frame clips (the Inception at 299x299 is the slow part of this test).
        save_file({'frames': pred[:, :3].contiguous()}, \(pythonString(shortPred)))
        save_file({'frames': gt[:, :3].contiguous()}, \(pythonString(shortGT)))
        p, t = pred[:, 1:], gt[:, 1:]           # context 1: frames 1..10 are scored
        def resize(v, s):                        # upstream's resize_video on [b t h w c]
            b = v.shape[0]
            v = rearrange(v, 'b t c h w -> (b t) c h w')
            return rearrange(F.interpolate(v, size=(s, s), mode='bilinear', align_corners=False), '(b t) c h w -> b t c h w', b=b)
        with torch.no_grad():
            iv3 = torch.jit.load(\(pythonString(Self.inceptionFile)))
            real = iv3(((resize(t[:, :2], 299) + 1) / 2).flatten(0, 1)).numpy()
            fake = iv3(((resize(p[:, :2], 299) + 1) / 2).flatten(0, 1)).numpy()
            i3d = torch.jit.load(\(pythonString(Self.i3dFile)))
            kw = dict(rescale=False, resize=True, return_features=True)
            def clips(v, unit): v = resize(v, 224); v = (v + 1) / 2 if unit else v; return v.permute(0, 2, 1, 3, 4)
            fvd = {unit: (i3d(clips(p, unit), **kw).numpy(), i3d(clips(t, unit), **kw).numpy()) for unit in (True, False)}
        # FID's 2048 x 2048 sqrtm takes minutes in scipy; with fewer samples than dimensions the
        # trace of sqrtm(S1 S2) equals that of sqrtm(M M^T), M = F1 F2^T (the covariance factors),
        # which scipy computes in milliseconds (the identity is tested on 64-d features above).
        import numpy as np
        f1 = (real - real.mean(0)) / np.sqrt(len(real) - 1); f2 = (fake - fake.mean(0)) / np.sqrt(len(fake) - 1)
        m = f1 @ f2.T
        tr = np.trace(scipy.linalg.sqrtm(m @ m.T).real)
        mu1, mu2 = np.mean(real, axis=0), np.mean(fake, axis=0)
        s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
        O['fid'] = torch.tensor(float((mu1 - mu2).dot(mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * tr), dtype=torch.float64)
        O['fvd'] = torch.tensor(upstream_fvd(*fvd[True]), dtype=torch.float64)
        O['fvd_standard'] = torch.tensor(upstream_fvd(*fvd[False]), dtype=torch.float64)
        O['mse'] = ((p - t) ** 2).mean().double()
        """)
        let output = scratch.path("metrics.json"), csv = scratch.path("per_clip.csv")
        let result = try NanoWMExecutable.run(["metrics", "--pred", pred, "--gt", gt, "--output", output, "--context", "1",
                                                "--lpips", Self.lpipsFile, "--i3d", Self.i3dFile, "--per-clip", csv])
        XCTAssertEqual(result.status, 0, result.error)
        let metrics = Dictionary(uniqueKeysWithValues: try MetricsFile.readMetrics(output).map { ($0.name, $0.value) })
        XCTAssertEqual(Set(metrics.keys), ["mse", "psnr", "ssim", "lpips", "fvd", "fvd_standard"])
        for name in ["fvd", "fvd_standard", "mse"] {
            assertRelative(metrics[name]!, try python[name]!.item(Double.self), "nanowm metrics \(name)")
        }
        let fidOutput = scratch.path("fid.json")
        let fidRun = try NanoWMExecutable.run(["metrics", "--pred", shortPred, "--gt", shortGT, "--output", fidOutput,
                                               "--inception", Self.inceptionFile])
        XCTAssertEqual(fidRun.status, 0, fidRun.error)
        let fid = try MetricsFile.readMetrics(fidOutput).first { $0.name == "fid" }?.value
        assertRelative(try XCTUnwrap(fid), try python["fid"]!.item(Double.self), "nanowm metrics fid")
        XCTAssertNotEqual(metrics["fvd"]!, metrics["fvd_standard"]!, "the two FVD input ranges must differ")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "sample_id,frame_idx,is_context,mse,psnr,ssim,lpips")
        XCTAssertEqual(rows.count, 1 + 2 * 11)
        XCTAssertTrue(rows[1].hasPrefix("0,0,True,"))
        let json = try jsonObject(atPath: output)
        let counts = json["counts"] as! [String: Int]
        XCTAssertEqual(counts["predicted_frames"], 20)
        XCTAssertEqual(counts["fvd_clips_per_side"], 2)
        XCTAssertNotNil((json["settings"] as! [String: Any])["i3d_network"] as? String)
    }

    /// A PyTorch run's eval_videos (raw_data.npz) and upstream's mp4 pairs are read as upstream
    /// writes them; the npz scores equal those of the same frames in safetensors.
    func testFolderInputsAndTheirErrors() throws {
        let videos = scratch.url.appendingPathComponent("eval_videos/step_0000000")
        _ = try PyTorchBaseline.shared.run("""
        import numpy as np, os
        from safetensors.torch import save_file
        g = torch.Generator().manual_seed(5)
        gt = torch.rand(2, 3, 3, 16, 16, generator=g)          # [clips, 3, T, H, W] in [0, 1]
        pred = (gt + 0.1 * torch.randn(gt.shape, generator=g)).clamp(0, 1)
        for i in range(2):
            d = os.path.join(\(pythonString(videos.path)), f'traj_{i:04d}_start_0000')
            os.makedirs(d, exist_ok=True)
            np.savez(os.path.join(d, 'raw_data.npz'), pred=pred[i].numpy(), gt=gt[i].numpy())
        to_signed = lambda v: (v.permute(0, 2, 1, 3, 4) * 2 - 1).contiguous()
        save_file({'frames': to_signed(pred)}, \(pythonString(scratch.path("p.safetensors"))))
        save_file({'frames': to_signed(gt)}, \(pythonString(scratch.path("g.safetensors"))))
        """)
        let fromFolder = scratch.path("folder.json"), fromFiles = scratch.path("files.json")
        XCTAssertEqual(try NanoWMExecutable.run(["metrics", "--pred", scratch.url.appendingPathComponent("eval_videos").path,
                                                  "--output", fromFolder]).status, 0)
        XCTAssertEqual(try NanoWMExecutable.run(["metrics", "--pred", scratch.path("p.safetensors"), "--gt", scratch.path("g.safetensors"),
                                                  "--output", fromFiles]).status, 0)
        let a = try MetricsFile.readMetrics(fromFolder), b = try MetricsFile.readMetrics(fromFiles)
        XCTAssertEqual(a.map(\.name), ["mse", "psnr", "ssim"])
        for (x, y) in zip(a, b) { XCTAssertEqual(x.value, y.value, accuracy: 1e-6 * Swift.max(1, abs(y.value)), x.name) }

        // savez_compressed deflates its entries, which upstream never writes: one line, not a crash.
        let compressed = scratch.url.appendingPathComponent("compressed/clip")
        _ = try PyTorchBaseline.shared.run("""
        import numpy as np, os
        os.makedirs(\(pythonString(compressed.path)), exist_ok=True)
        np.savez_compressed(os.path.join(\(pythonString(compressed.path)), 'raw_data.npz'), pred=np.zeros((3, 2, 12, 12), np.float32), gt=np.zeros((3, 2, 12, 12), np.float32))
        """)
        try assertCommandFails(["metrics", "--pred", compressed.deletingLastPathComponent().path, "--output", scratch.path("c.json")],
                               mentions: ["raw_data.npz", "deflate"])

        // An mp4 pair with different frame counts.
        let mp4 = scratch.url.appendingPathComponent("mp4")
        try FileManager.default.createDirectory(at: mp4, withIntermediateDirectories: true)
        let frame = try RGBImage(width: 16, height: 16, filling: (40, 90, 200))
        try MP4Writer.write(Array(repeating: frame, count: 4), fps: 3, to: mp4.appendingPathComponent("sample_0_gen.mp4"))
        try MP4Writer.write(Array(repeating: frame, count: 3), fps: 3, to: mp4.appendingPathComponent("sample_0_gt.mp4"))
        try assertCommandFails(["metrics", "--pred", mp4.path, "--output", scratch.path("m.json")],
                               mentions: ["sample_0_gen.mp4 has 4 frames", "sample_0_gt.mp4 3"])
    }

    func testOneLineErrorsAndNotes() throws {
        let (pred, gt, short) = (scratch.path("p.safetensors"), scratch.path("g.safetensors"), scratch.path("s.safetensors"))
        _ = try PyTorchBaseline.shared.run("""
        from safetensors.torch import save_file
        g = torch.Generator().manual_seed(2)
        save_file({'frames': torch.rand(1, 11, 3, 12, 12, generator=g) * 2 - 1}, \(pythonString(pred)))
        save_file({'frames': torch.rand(1, 11, 3, 12, 12, generator=g) * 2 - 1}, \(pythonString(gt)))
        save_file({'frames': torch.rand(2, 4, 3, 12, 12, generator=g) * 2 - 1}, \(pythonString(short)))
        save_file({'frames': torch.rand(2, 4, 3, 6, 6, generator=g) * 2 - 1}, \(pythonString(scratch.path("tiny.safetensors"))))
        """)
        let out = scratch.path("m.json")
        try assertCommandFails(["metrics", "--pred", pred, "--gt", gt, "--output", out, "--lpips", scratch.path("missing.pt")],
                               mentions: ["--lpips", "no such file", "scripts/export_metric_nets.py lpips"])
        try assertCommandFails(["metrics", "--pred", pred, "--gt", gt, "--output", out, "--inception", Self.lpipsFile],
                               mentions: ["holds 'lpips_vgg_v0.1'", "scripts/export_metric_nets.py inception"])
        try assertCommandFails(["metrics", "--pred", pred, "--gt", short, "--output", out], mentions: ["differ in shape"])
        try assertCommandFails(["metrics", "--pred", pred, "--gt", gt, "--output", out, "--i3d", Self.i3dFile],
                               mentions: ["FVD", "at least 2 samples", "pass at least 2 clips"])
        try assertCommandFails(["metrics", "--pred", scratch.path("tiny.safetensors"), "--gt", scratch.path("tiny.safetensors"), "--output", out],
                               mentions: ["6×6", "SSIM", "at least 11×11"])
        try assertCommandFails(["metrics", "--pred", pred, "--gt", gt, "--output", scratch.path("no/such/m.json")],
                               mentions: ["does not exist"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a failed run must write nothing")

        // Fewer than 10 predicted frames: FVD is left out with a note, as upstream skips it.
        let result = try NanoWMExecutable.run(["metrics", "--pred", short, "--gt", short, "--output", out, "--i3d", Self.i3dFile])
        XCTAssertEqual(result.status, 0, result.error)
        let json = try jsonObject(atPath: out)
        XCTAssertNil((json["metrics"] as! [String: Any])["fvd"])
        XCTAssertTrue((json["notes"] as! [String]).contains { $0.contains("fvd omitted: clips have 3 predicted frames") }, "\(json["notes"]!)")
        XCTAssertEqual((json["metrics"] as! [String: Double])["psnr"] ?? 0, 80, accuracy: 1e-3, "identical clips score piqa's 80 dB")
    }

    /// upstream's raw_data.npz holds float frames in [0, 1]: NaN, 8-bit frames and frames in
    /// [−1, 1] are refused, naming the file, where they were scored as if in range.
    func testRawDataOutsideItsRangeIsRefused() throws {
        for (name, frames, mention) in [("nan", "np.full((3, 4, 12, 12), np.nan, np.float32)", "NaN"),
                                        ("bytes", "np.full((3, 4, 12, 12), 200, np.uint8)", "uint8"),
                                        ("signed", "np.full((3, 4, 12, 12), -0.5, np.float32)", "spans [-0.5")] {
            let folder = scratch.url.appendingPathComponent("raw-\(name)/eval_videos/step_0/traj_0000_start_0000")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            _ = try PyTorchBaseline.shared.run("""
            import numpy as np
            np.savez(\(pythonString(folder.appendingPathComponent("raw_data.npz").path)), pred=\(frames), gt=np.zeros((3, 4, 12, 12), np.float32))
            """)
            try assertCommandFails(["metrics", "--pred", scratch.path("raw-\(name)"), "--output", scratch.path("raw-\(name).json")],
                                   mentions: ["raw_data.npz", "'pred'", mention])
        }
    }

    /// A metric network is a program of the user's: what it returns is checked before
    /// anything is scored with it (wrong shape, integers, NaN), in one line naming the file,
    /// as `nanowm metrics` runs it.
    func testMetricNetworkOutputsAreChecked() throws {
        let (pred, gt) = (scratch.path("p.safetensors"), scratch.path("g.safetensors"))
        _ = try PyTorchBaseline.shared.run("""
        from safetensors.torch import save_file
        g = torch.Generator().manual_seed(3)
        save_file({'frames': torch.rand(2, 4, 3, 16, 16, generator=g) * 2 - 1}, \(pythonString(pred)))
        save_file({'frames': torch.rand(2, 4, 3, 16, 16, generator=g) * 2 - 1}, \(pythonString(gt)))
        """)
        for (name, body) in [("shape", "torch.zeros(7, 5, 3)"), ("integers", "torch.zeros(a.shape[0], dtype=torch.int64)"),
                             ("nan", "torch.full([a.shape[0]], float('nan'))")] {
            let file = scratch.path("bad-\(name).pt")
            let definitions = try PyTorchBaseline.importing("""
            import torch
            class Bad(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.metric_kind = 'lpips_vgg_v0.1'
                    self.format_version = 1
                def forward(self, a, b):
                    return \(body)
            """, from: scratch.path("bad_\(name).py"), as: "bad")
            _ = try PyTorchBaseline.shared.run("""
            \(definitions)
            torch.jit.script(bad.Bad()).save(\(pythonString(file)))
            """)
            try assertCommandFails(["metrics", "--pred", pred, "--gt", gt, "--output", scratch.path("bad-\(name).json"), "--lpips", file],
                                   mentions: [file, name == "nan" ? "NaN or infinite" : "not a floating-point row per item"])
        }
    }

    func testCompareShowsRunsSideBySide() throws {
        let (a, b) = (scratch.path("baseline.json"), scratch.path("ours.json"))
        try Data(#"{"metrics": {"psnr": 34.05, "ssim": 0.994, "lpips": 0.01, "fid": 2.64}}"#.utf8).write(to: URL(fileURLWithPath: a))
        try Data(#"{"metrics": {"mse": 0.002, "psnr": 33.55, "ssim": 0.99}, "settings": {}}"#.utf8).write(to: URL(fileURLWithPath: b))
        let plain = try NanoWMExecutable.run(["compare", a, b])
        XCTAssertEqual(plain.status, 0, plain.error)
        XCTAssertTrue(plain.output.contains("33.5500 (-0.5000)"), plain.output)
        let markdown = try NanoWMExecutable.run(["compare", a, b, "--markdown"])
        let lines = markdown.output.split(separator: "\n")
        XCTAssertEqual(lines.first, "| metric | baseline.json | ours.json |")
        XCTAssertTrue(lines.contains("| fid | 2.6400 | — |"), markdown.output)
        XCTAssertTrue(lines.contains("| mse | — | 0.0020 |"), markdown.output)
        try assertCommandFails(["compare", a, scratch.path("none.json")], mentions: ["none.json", "no such metrics file"])
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: b))
        try assertCommandFails(["compare", a, b], mentions: ["not a metrics file"])
    }

    func assertCommandFails(_ arguments: [String], mentions fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        try assertCommandFailsWithOneLine(arguments, mentions: fragments, progressLabels: ["scoring"], file: file, line: line)
    }
}
