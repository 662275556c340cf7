import Foundation

/// A checkpoint file of any supported format, opened without reading its weights:
/// `torch.save` archives (.ckpt/.pt/.pth/.bin) and `.safetensors`, told apart by content,
/// not by extension.
public struct Checkpoint {
    public enum Format: String { case torch, safetensors }

    public let path: String
    public let format: Format
    /// The saved object. For safetensors, a dict of its tensors.
    public let root: PickleValue
    /// safetensors `__metadata__` (empty for torch archives).
    public let metadata: [String: String]

    public static func open(_ path: String) throws -> Checkpoint {
        let file = try ReadOnlyFile(path)
        let prefix = try file.bytes(at: 0, count: Swift.min(file.size, 16))
        if Array(prefix.prefix(4)) == TorchArchive.zipMagic || prefix.first == 0x80 {
            return Checkpoint(path: path, format: .torch, root: try TorchArchive.read(path).root, metadata: [:])
        }
        if SafeTensors.looksLikeSafeTensors(prefix) {
            let (tensors, metadata) = try SafeTensors.read(path)
            let dict = PickleDict(ordered: true)
            for name in tensors.keys.sorted() { dict[name] = .tensor(TensorRef(tensors[name]!)) }
            return Checkpoint(path: path, format: .safetensors, root: .dict(dict), metadata: metadata)
        }
        throw CheckpointError(path, file.size == 0 ? "file is empty" : "unrecognised format: neither a torch.save archive nor safetensors")
    }

    /// Where the weights sit: a Lightning checkpoint's `state_dict`, a training script's
    /// `model`/`module`/`model_state_dict`, or the root itself when it is a plain state dict.
    public func stateDict() throws -> [(String, TensorRef)] {
        guard case .dict(let root) = root else {
            throw CheckpointError(path, "holds a \(Callables.kind(of: root)), not a dict of tensors")
        }
        for key in ["state_dict", "model", "module", "model_state_dict"] {
            if case .dict(let inner)? = root[key], Self.holdsTensors(inner) { return Self.tensors(of: inner) }
        }
        guard Self.holdsTensors(root) else {
            let keys = root.entries.compactMap(\.key.string).prefix(8).joined(separator: ", ")
            throw CheckpointError(path, "found no state dict (top-level keys: \(keys))")
        }
        return Self.tensors(of: root)
    }

    /// Every tensor of a state dict, in saved order; non-tensor entries (e.g. `_metadata`)
    /// are not weights and are left out.
    private static func tensors(of dict: PickleDict) -> [(String, TensorRef)] {
        dict.entries.compactMap { entry in
            guard let name = entry.key.string, let tensor = entry.value.tensor else { return nil }
            return (name, tensor)
        }
    }

    private static func holdsTensors(_ dict: PickleDict) -> Bool {
        dict.entries.contains { $0.value.tensor != nil }
    }

    /// Writes a state dict in the format `path`'s extension asks for: `.safetensors`, else a
    /// `torch.save` archive holding an OrderedDict (as `torch.save(model.state_dict())`).
    public static func save(_ tensors: [(String, Tensor)], to path: String, metadata: [String: String] = [:]) throws {
        if path.hasSuffix(".safetensors") {
            var named: [String: Tensor] = [:]
            for (name, tensor) in tensors { named[name] = tensor }
            try SafeTensors.write(named, metadata: metadata, to: path)
        } else {
            let dict = PickleDict(ordered: true)
            for (name, tensor) in tensors { dict[name] = .tensor(TensorRef(tensor)) }
            try TorchArchive.write(.dict(dict), to: path)
        }
    }
}
