import Foundation
import PythonCompatible
import SwiftTorch
import NanoWMFormats

/// What a codec's encoder computes for every frame of a dataset, stored once so training can
/// skip the encoder (beyond upstream, which encodes every batch at every step). For the
/// SD-VAE it is the posterior's mean and log-variance — the part before the random draw — so
/// training still draws a fresh posterior sample each step, as upstream does; for the semantic
/// encoders, which draw nothing, the latents themselves. The folder holds `latent_cache.json`
/// (which codec file and which dataset it was made from) and one `episode_NNNNN.safetensors`
/// per episode with `mean`/`logvar` or `latents`, `[T, C, h, w]` float32.
public struct LatentCache {
    public struct Manifest: Codable, Equatable {
        public var formatVersion = 1
        public var codecKind: String
        /// Size and CRC-32 of the exported codec file: a fingerprint, so another codec's cache
        /// is never used by mistake (not a cryptographic hash).
        public var codecFingerprint: String
        /// The dataset's own manifest (what generated it), compared as a whole.
        public var dataset: TrajectoryStore.Manifest
        public var latentShape: [Int]
    }

    public static let manifestName = "latent_cache.json"

    public let directory: URL
    public let manifest: Manifest

    /// Opens the cache at `directory` and checks that it was made with `codec` from `store`.
    public init(directory: URL, codec: LatentCodec, store: TrajectoryStore) throws {
        let url = directory.appendingPathComponent(Self.manifestName)
        let fix = "make it with `nanowm encode-dataset` and the run's overrides"
        guard let data = try? Data(contentsOf: url) else {
            throw DataError("dataset.latent_cache: no latent cache at \(directory.path); \(fix)")
        }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
            throw DataError("\(url.path): not a latent cache manifest; \(fix)")
        }
        let expected = try Self.fingerprint(of: codec)
        guard manifest.codecKind == expected.kind, manifest.codecFingerprint == expected.fingerprint else {
            throw DataError("dataset.latent_cache: \(directory.path) was made with another codec file (\(manifest.codecKind), \(manifest.codecFingerprint)); \(fix) again")
        }
        guard manifest.dataset == store.manifest else {
            throw DataError("dataset.latent_cache: \(directory.path) was made from another dataset than \(store.directory.path); \(fix) again")
        }
        self.directory = directory
        self.manifest = manifest
    }

    /// The codec's kind and the fingerprint of its exported file; the pixel codec has nothing to cache.
    static func fingerprint(of codec: LatentCodec) throws -> (kind: String, fingerprint: String) {
        let file: ExportedCodec
        switch codec {
        case let vae as SDVAECodec: file = vae.file
        case let semantic as SemanticCodec: file = semantic.file
        default: throw DataError("dataset.latent_cache: latent_codec=pixel has no encoder to cache; use it without a cache")
        }
        return (file.kind, try FileFingerprint.of(file.module.path))
    }

    public func episodeURL(_ index: Int) -> URL {
        directory.appendingPathComponent(String(format: "episode_%05d.safetensors", index))
    }

    /// The codec input a cached clip stands for, `[T, K, h, w]`: the SD-VAE's mean and
    /// log-variance side by side on the channel axis (K = 2C), or the semantic latents (K = C).
    public func encoderOutput(episode: Int) throws -> Tensor {
        let path = episodeURL(episode).path
        let tensors = try SafeTensors.read(path).tensors
        if let latents = tensors["latents"] { return latents }
        guard let mean = tensors["mean"], let logvar = tensors["logvar"] else {
            throw DataError("\(path): expected 'mean' and 'logvar' (or 'latents'); make the cache again with nanowm encode-dataset")
        }
        return try Tensor.cat([mean, logvar], dim: 1)
    }

    /// Encodes every episode of `store` into a cache at `directory` (episodes first, the
    /// manifest last, so an interrupted build leaves no usable-looking cache).
    @discardableResult
    public static func build(from store: TrajectoryStore, codec: LatentCodec, into directory: URL, batch: Int = 32,
                             progress: ((Int, Int) -> Void)? = nil) throws -> LatentCache {
        let (kind, fingerprint) = try fingerprint(of: codec)
        try Folder.create(directory)
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(manifestName))
        var shape: [Int] = []
        for index in 0..<store.manifest.episodes {
            let frames = try signedFrames(try store.episode(index).frames.permute(0, 3, 1, 2))
            var parts: [String: [Tensor]] = [:]
            for start in stride(from: 0, to: frames.shape[0], by: batch) {
                let chunk = try frames.narrow(dim: 0, start: start, length: Swift.min(batch, frames.shape[0] - start))
                try withNoGrad {
                    if let vae = codec as? SDVAECodec {
                        let (mean, logvar) = try vae.moments(signed: chunk)
                        parts["mean", default: []].append(mean)
                        parts["logvar", default: []].append(logvar)
                    } else {
                        parts["latents", default: []].append(try codec.encode(signed: chunk))
                    }
                }
            }
            let tensors = try parts.mapValues { try Tensor.cat($0, dim: 0).to(.cpu).contiguous() }
            shape = Array((tensors["latents"] ?? tensors["mean"]!).shape.dropFirst())
            try SafeTensors.write(tensors, to: directory.appendingPathComponent(String(format: "episode_%05d.safetensors", index)).path)
            progress?(index + 1, store.manifest.episodes)
        }
        let manifest = Manifest(codecKind: kind, codecFingerprint: fingerprint, dataset: store.manifest, latentShape: shape)
        let text = try PythonJSON.dumps(encoding: manifest) + "\n"
        try AtomicFile.write(to: directory.appendingPathComponent(manifestName).path) { Data(text.utf8) }
        return try LatentCache(directory: directory, codec: codec, store: store)
    }
}
