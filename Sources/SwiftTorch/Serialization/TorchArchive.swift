import Foundation

/// The `torch.save` file format (PyTorch ≥ 1.6): a zip archive holding `<name>/data.pkl`,
/// a pickle whose tensors point by persistent id at raw little-endian storages
/// `<name>/data/<key>`. Reading interprets the pickle without executing it and pulls each
/// storage from the file only when a tensor is asked for; writing produces archives that
/// `torch.load(path, weights_only=True)` accepts.
public final class TorchArchive {
    public let path: String
    /// The unpickled object: usually a dict (a state dict or a Lightning checkpoint).
    public let root: PickleValue

    private init(path: String, root: PickleValue) {
        self.path = path
        self.root = root
    }

    /// The first bytes of a zip file.
    static let zipMagic: [UInt8] = [0x50, 0x4b, 0x03, 0x04]

    public static func read(_ path: String) throws -> TorchArchive {
        let file = try ReadOnlyFile(path)
        let magic = try file.bytes(at: 0, count: Swift.min(file.size, 4))
        guard magic == zipMagic else {
            if magic.count >= 2 && magic[0] == 0x80 {
                throw CheckpointError(path, "legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it in Python with torch.save(torch.load(path), path)")
            }
            throw CheckpointError(path, "not a torch.save archive (does not start with a zip header)")
        }
        let zip = try ZipArchive(file)
        let prefix = try recordPrefix(zip)
        if let order = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.bytes(of: order), as: UTF8.self)
            guard text == "little" else { throw CheckpointError(path, "archive was written with \(text)-endian storages; only little-endian is supported") }
        }
        guard let pickle = zip.entry(named: prefix + "data.pkl") else {
            throw CheckpointError(path, "archive has no \(prefix)data.pkl record")
        }
        let source = ArchiveStorages(zip: zip, prefix: prefix)
        do {
            let root = try Unpickler.load(try zip.bytes(of: pickle)) { try source.storage(for: $0) }
            return TorchArchive(path: path, root: root)
        } catch let error as PickleError {
            throw CheckpointError(path, "\(prefix)data.pkl: \(error.description)")
        }
    }

    /// The folder all records live under (the saved file's stem, or `archive`).
    private static func recordPrefix(_ zip: ZipArchive) throws -> String {
        let path = zip.file.path
        if zip.entries.contains(where: { $0.name.hasSuffix("/constants.pkl") || $0.name.contains("/code/") }) {
            throw CheckpointError(path, "is a TorchScript module (torch.jit.save), not a torch.save checkpoint; load it with TorchScript instead")
        }
        let candidates = zip.entries.map(\.name).filter { $0.hasSuffix("data.pkl") && $0.split(separator: "/").count <= 2 }
        guard let record = candidates.min(by: { $0.count < $1.count }) else {
            throw CheckpointError(path, "zip archive has no data.pkl record: not a torch.save checkpoint")
        }
        return String(record.dropLast("data.pkl".count))
    }

    // MARK: - Writing

    /// Saves `value` (dicts, lists, numbers, strings and tensors) atomically: `torch.load`
    /// reads it back with the same keys, dtypes, shapes and values.
    public static func write(_ value: PickleValue, to path: String) throws {
        var storages: [Tensor] = []
        let pickle: [UInt8]
        do {
            pickle = try Pickler.dump(value) { ref in
                let tensor = try ref.load().to(.cpu).contiguous()
                guard let typeName = StorageRef.typeNameByDType[tensor.dtype] else {
                    throw PickleError("tensors of dtype \(tensor.dtype) have no torch storage type")
                }
                storages.append(tensor)
                return (String(storages.count - 1), typeName, tensor.count)
            }
        } catch let error as PickleError {
            throw CheckpointError(path, error.description)
        }
        var stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if stem.isEmpty || stem.hasPrefix(".") || stem.contains("/") { stem = "archive" }
        let prefix = stem + "/"
        try AtomicFile.stream(to: path) { output in
            let zip = ZipWriter(output)
            try zip.add(prefix + "data.pkl", pickle)
            try zip.add(prefix + ".format_version", Array("1".utf8))
            try zip.add(prefix + ".storage_alignment", Array("64".utf8))
            try zip.add(prefix + "byteorder", Array("little".utf8))
            for (key, tensor) in storages.enumerated() {
                let bytes = try UnsafeRawBufferPointer(start: tensor.count > 0 ? tensor.unsafeDataPointer() : nil,
                                                   count: tensor.count * tensor.dtype.byteSize)
                try zip.add(prefix + "data/\(key)", bytes)
            }
            try zip.add(prefix + "version", Array("3\n".utf8))
            try zip.add(prefix + ".data/serialization_id", Array(serializationID().utf8))
            try zip.finish()
        }
    }

    /// torch records a random 40-digit id per file; any unique-enough digits serve.
    private static func serializationID() -> String {
        (0..<40).map { _ in String(Int.random(in: 0...9)) }.joined()
    }
}

/// Storages of one archive, each read from the file once and shared by every view of it.
private final class ArchiveStorages: StorageSource {
    private let zip: ZipArchive
    private let prefix: String
    private var cache: [String: Tensor] = [:]

    init(zip: ZipArchive, prefix: String) {
        self.zip = zip
        self.prefix = prefix
    }

    /// The persistent id `('storage', torch.<X>Storage, key, location, numel)`.
    func storage(for id: PickleValue) throws -> PickleValue {
        guard let fields = id.items, fields.count == 5, fields[0].string == "storage",
              case .global(_, let typeName) = fields[1], let key = fields[2].string,
              let location = fields[3].string, let count = fields[4].int, count >= 0 else {
            throw PickleError("persistent id is not a torch storage record")
        }
        guard let entry = zip.entry(named: prefix + "data/" + key) else {
            throw PickleError("storage '\(key)' is referenced but the archive has no \(prefix)data/\(key) record")
        }
        let dtype = StorageRef.dtypeByTypeName[typeName]
        if let dtype {
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytes == entry.size else {
                throw PickleError("storage '\(key)' should hold \(count) \(typeName) elements but its record has \(entry.size) bytes")
            }
        }
        return .storage(StorageRef(key: key, dtype: dtype, typeName: typeName, count: count, location: location, source: self))
    }

    func loadStorage(_ storage: StorageRef) throws -> Tensor {
        if let cached = cache[storage.key] { return cached }
        guard let dtype = storage.dtype else { throw PickleError("storage type \(storage.typeName) is not supported") }
        let tensor = try Tensor.empty([storage.count], dtype: dtype)
        try readStorage(storage, into: tensor)
        cache[storage.key] = tensor
        return tensor
    }

    func readStorage(_ storage: StorageRef, into tensor: Tensor) throws {
        guard let entry = zip.entry(named: prefix + "data/" + storage.key) else {
            throw PickleError("archive has no \(prefix)data/\(storage.key) record")
        }
        if entry.size > 0 { try zip.read(entry, into: tensor.unsafeDataPointer()!) }
    }
}
