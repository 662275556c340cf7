import SwiftTorch
import NanoWMCore

/// The random draws the reference's evaluate task makes from the global generator before its
/// first clip is sampled (`TrainExperiment.evaluate()`: `_setup_common`, then Lightning's
/// `Trainer.validate`), so that `nanowm evaluate` gives every clip the noise the reference
/// gives it. In the reference's order:
///
/// 1. `seed_everything(experiment.infra.seed)`, before anything else (building the datasets draws
///    nothing from torch);
/// 2. the model's random initialisation (`NanoWMModel.init` draws what the reference's does; the
///    checkpoint then replaces the values);
/// 3. the codec probe: `torch.randn(1, 3, H, H)` and whatever encoding it draws (the SD-VAE's
///    posterior sample);
/// 4. with a decoding codec and `experiment.evaluation.metrics.evaluate`, the metrics `Evaluator`
///    builds lpips's VGG-16 and pytorch-fid's Inception-v3 through torchvision, whose layer
///    constructors draw their default initialisation before the pretrained weights replace it:
///    138,359,016 and 42,548,048 uniform floats (weights and biases of every convolution and
///    linear layer built, counted by make_evaluate_fixtures.py's run of the real lpips and
///    pytorch-fid code);
/// 5. the validation DataLoader's iterator: one int64 base seed (`random_()`, two 32-bit draws).
///
/// Then, per batch, `validation_step`'s loss (the codec's draws, timesteps, noise) and, when
/// metrics are on, the sampling callback (the codec's draws again, the sampler's).
enum EvaluationDraws {
    static let lpipsNetwork = 138_359_016
    static let inceptionNetwork = 42_548_048

    /// Step 3: the probe frame and its encoding's draws (on the CPU: the reference probes before
    /// anything moves to the accelerator).
    static func codecProbe(_ codec: LatentCodec, frame: [Int]) throws {
        _ = try Tensor.randn([1] + frame)
        try codec.discardEncodingDraws(frames: 1, of: frame, device: .cpu)
    }

    /// Step 4.
    static func metricNetworks() throws {
        try discardUniform(lpipsNetwork + inceptionNetwork)
    }

    /// Step 5.
    static func dataLoaderSeed() throws {
        _ = try Tensor.randint(0, Int(Int64.max), [])  // a range of 2⁶³ − 1 draws 64 bits, as random_() does
    }

    /// `count` uniform float draws (one 32-bit output each), made and dropped in bounded chunks.
    static func discardUniform(_ count: Int) throws {
        var left = count
        while left > 0 {
            let chunk = Swift.min(left, 1 << 24)
            _ = try Tensor.rand([chunk])
            left -= chunk
        }
    }
}
