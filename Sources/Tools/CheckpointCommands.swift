import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch
import NanoWMCore

/// `nanowm ckpt`: look inside checkpoints and convert between formats, without Python.
struct CheckpointCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt",
        abstract: "Inspect and convert checkpoints (.ckpt, .pt, .pth, .safetensors).",
        subcommands: [Inspect.self, Convert.self])
}

extension CheckpointCommands {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a checkpoint's tensors, parameter count and the NanoWM configuration its keys imply.",
            discussion: """
            Reads only the archive's index and pickle: no weights are loaded, so this is fast even \
            for multi-gigabyte files. Nothing inside the file is executed.
            """)

        @Argument(help: "Checkpoint file (torch.save archive or safetensors).") var path: String
        @Flag(help: "List every tensor (default: the first 40 and a summary).") var all = false

        func run() throws {
            let checkpoint = try Checkpoint.open(path)
            print("file:    \(path)")
            print("format:  \(checkpoint.format == .torch ? "torch.save archive" : "safetensors")")
            printLightningFields(checkpoint.root)
            let entries = try checkpoint.stateDict()
            let model = UpstreamWeights.normalise(entries)
            let total = entries.reduce(0) { $0 + $1.1.count }
            let modelCount = model.values.reduce(0) { $0 + $1.count }
            print("tensors: \(entries.count) (\(formatCount(total)) values); world model: \(model.count) tensors, \(formatCount(modelCount)) parameters")
            var byType: [String: Int] = [:]
            for (_, ref) in entries { byType[dtypeName(ref), default: 0] += 1 }
            print("dtypes:  " + byType.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
            printInferredConfiguration(model)
            print("")
            let shown = all ? entries[...] : entries.prefix(40)
            let width = min(shown.map(\.0.count).max() ?? 0, 72)
            for (name, ref) in shown {
                print("  \(name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0))  \(dtypeName(ref).padding(toLength: 8, withPad: " ", startingAt: 0)) \(ref.shape)")
            }
            if shown.count < entries.count { print("  … \(entries.count - shown.count) more (--all lists them)") }
        }

        private func printLightningFields(_ root: PickleValue) {
            let fields = ["pytorch-lightning_version", "epoch", "global_step"].compactMap { key -> String? in
                guard let value = root[key] else { return nil }
                return "\(key)=\(value.string ?? value.int.map(String.init) ?? "?")"
            }
            if !fields.isEmpty { print("trainer: " + fields.joined(separator: ", ")) }
        }

        private func printInferredConfiguration(_ model: [String: TensorRef]) {
            do {
                let config = try NanoWMConfig(inferringFrom: model.mapValues(\.shape), causal: true)
                print("model:   \(config.summary) (causal and additive/adaln_fuse cannot be read from weights)")
            } catch {
                print("model:   not a NanoWM state dict (\(error))")
            }
        }
    }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a checkpoint's weights between .ckpt/.pt/.pth and .safetensors.",
            discussion: """
            The output format follows OUT's extension: .safetensors, or a torch.save archive \
            (a plain state dict, readable by torch.load(weights_only=True)) for anything else. \
            Lightning checkpoints are reduced to the world model's weights (`model.` and \
            `_orig_mod.` stripped, codec weights dropped) unless --keep-keys is given. \
            The output is written to a temporary file and renamed, so it is never half-written.
            """)

        @Argument(help: "Input checkpoint.") var input: String
        @Argument(help: "Output file (.safetensors, .pt, .ckpt, .pth).") var output: String
        @Flag(help: "Keep every tensor under its original key.") var keepKeys = false

        func run() throws {
            let checkpoint = try Checkpoint.open(input)
            let entries = try checkpoint.stateDict()
            let named: [(String, TensorRef)] = keepKeys
                ? entries
                : UpstreamWeights.normalise(entries).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            let tensors = try named.map { ($0.0, try $0.1.load()) }
            try Checkpoint.save(tensors, to: output)
            print("wrote \(tensors.count) tensors to \(output)")
        }
    }
}

private func dtypeName(_ ref: TensorRef) -> String {
    ref.dtype.map { "\($0)".replacingOccurrences(of: "torch.", with: "") } ?? ref.storage?.typeName ?? "?"
}

private func formatCount(_ n: Int) -> String {
    switch n {
    case 1_000_000_000...: return String(format: "%.2fB", Double(n) / 1e9)
    case 1_000_000...: return String(format: "%.2fM", Double(n) / 1e6)
    case 1_000...: return String(format: "%.1fK", Double(n) / 1e3)
    default: return "\(n)"
    }
}
