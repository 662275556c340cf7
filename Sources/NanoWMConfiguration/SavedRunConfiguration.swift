import Foundation

extension ConfigNode {
    /// A run folder's `config.yaml` (what `ConfigComposition.saveRunFiles` wrote), resolved as
    /// the run resolved it: paths relative to its folder, and the group choices of the run's
    /// `.hydra/hydra.yaml` when present, for `${hydra:runtime.choices…}`.
    public static func savedRun(_ file: URL) throws -> ConfigNode {
        let folder = file.deletingLastPathComponent()
        var choices: [String: String] = [:]
        let hydra = folder.appendingPathComponent(".hydra/hydra.yaml")
        if let node = try? ConfigNode(contentsOf: hydra), let mapping = node["hydra.runtime.choices"]?.mapping {
            for (key, value) in mapping { if let value = value.string { choices[key] = value } }
        }
        return try ConfigNode(contentsOf: file).resolved(ResolveContext(outputDirectory: folder.path, choices: choices))
    }
}
