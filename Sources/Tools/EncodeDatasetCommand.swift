import ArgumentParser
import Foundation
import NanoWM
import NanoWMConfiguration
import NanoWMFormats
import NanoWMCore

/// `nanowm encode-dataset`: the latent cache a run with `dataset.latent_cache` reads.
struct EncodeDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode-dataset",
        abstract: "Encode every frame of a run's dataset with its codec once, so training can skip the encoder.",
        discussion: """
        Stores what the codec's encoder computes before any random draw (for the SD-VAE the posterior \\
        mean and log-variance; for Web-DINO and V-JEPA the latents) in dataset.latent_cache, keyed by the \\
        codec file and the dataset. A run with the same overrides then draws the posterior sample from the \\
        cache at every step, as upstream draws it from the encoder, so training is unchanged in distribution.

        Example:
          nanowm encode-dataset experiment=quickstart latent_codec=sd_vae \\
              model.latent_channels=4 model.latent_size=8 dataset.latent_cache=data/wall_sdvae
          nanowm train experiment=quickstart latent_codec=sd_vae \\
              model.latent_channels=4 model.latent_size=8 dataset.latent_cache=data/wall_sdvae
        """)

    @Argument(help: "The run's overrides, dataset.latent_cache=PATH included.") var overrides: [String] = []
    @Option(name: .customLong("config-dir"), help: "The folder holding config.yaml (default: the repository's configs/).")
    var configDir: String?

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        let config = try ConfigComposer.locate(configDir: configDir).composition(overrides: overrides).resolved()
        var bar: ProgressBar?
        let cache = try RunConfiguration(config).buildLatentCache { done, total in
            if bar == nil { bar = ProgressBar("encode", total: total) }
            bar?.update(done)
        }
        print("wrote the latent cache of \(cache.manifest.dataset.episodes) episodes (\(cache.manifest.codecKind), latents \(cache.manifest.latentShape)) to \(cache.directory.path)")
    }
}
