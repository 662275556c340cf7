import CTorchShim
import Foundation

/// A TorchScript module saved by `torch.jit.save` (scripted or traced): its methods run in
/// libtorch's interpreter, with the values they take and return as `ScriptValue`s. Parameters
/// and buffers can be read and overwritten by name, so weights from a checkpoint can be put
/// into an exported module. Errors (a wrong argument, a missing method, a shape that does not
/// match) carry TorchScript's own message.
public final class ScriptModule {
    let handle: OpaquePointer
    /// The file it was loaded from, for messages.
    public let path: String

    /// Loads `path`; with a device, every tensor goes there (else where the file says).
    public init(contentsOf path: String, device: Device? = nil) throws {
        try Self.checkArchive(path)
        if let device { try device.ensureAvailable() }
        var out: OpaquePointer?
        let status = ctorch_module_load(path, device.map { $0.typeCode } ?? -1, device?.index ?? 0, &out)
        guard status == 0, let out else {
            let reason = TorchError.lastShimError().message.split(separator: "\n").first.map(String.init) ?? ""
            throw TorchError.invalidArgument("\(path): not a loadable TorchScript file (\(reason))")
        }
        handle = out
        self.path = path
    }

    deinit { ctorch_module_free(handle) }

    /// What is checked before libtorch reads the file, whose reader trusts an archive more than
    /// ours: a regular file (a FIFO would block the load), a zip archive whose directory and
    /// entry extents our reader accepts, holding TorchScript's records, each of them except the
    /// tensor storages matching its checksum. libtorch is built without miniz's CRC checks, and
    /// fuzzing found damaged code, debug and pickle records crashing its parsers or making them
    /// allocate gigabytes; a damaged storage only changes weights. This guards against damage,
    /// not design: a TorchScript file is a program, and a crafted one can do anything its
    /// author wants (README). A `torch.save` checkpoint has a `data.pkl` but no code, a common
    /// mix-up that deserves its own line.
    static func checkArchive(_ path: String) throws {
        let file = try ReadOnlyFile(path)  // names a missing file, a folder or a FIFO
        let archive: ZipArchive
        // torch.jit.save deflates the code records, so compressed entries are indexed (and their
        // extents checked) rather than refused as in a checkpoint.
        do { archive = try ZipArchive(file, compressedEntries: true) } catch {
            throw CheckpointError(path, "not a TorchScript file (\((error as? CheckpointError)?.message ?? "\(error)"))")
        }
        for entry in archive.entries { _ = try archive.dataOffset(of: entry) }
        let names = archive.entries.map(\.name)
        guard names.contains(where: { $0.hasSuffix("data.pkl") }) else {
            throw CheckpointError(path, "not a TorchScript file: the archive has no data.pkl record")
        }
        guard names.contains(where: { $0.hasSuffix("constants.pkl") }), names.contains(where: { $0.contains("/code/") }) else {
            throw CheckpointError(path, "a torch.save checkpoint (weights without code), not a TorchScript module; "
                                  + "export the network with torch.jit.script or torch.jit.trace (scripts/export_codec.py, scripts/export_metric_nets.py)")
        }
        // Every record lives in the archive's one folder; libtorch names them without it.
        let folder = names[0].prefix { $0 != "/" }
        var records: [(record: String, crc: UInt32)] = []
        for entry in archive.entries {
            guard entry.name.hasPrefix(folder + "/") else {
                throw CheckpointError(path, "not a TorchScript file: record '\(entry.name)' lies outside the archive's folder '\(folder)'")
            }
            let record = String(entry.name.dropFirst(folder.count + 1))
            if !record.hasPrefix("data/") { records.append((record, entry.crc32)) }
        }
        var data = [UnsafeMutablePointer<UInt8>?](repeating: nil, count: records.count)
        var sizes = [Int](repeating: 0, count: records.count)
        defer { data.forEach { ctorch_bytes_free($0) } }
        let cNames = records.map { strdup($0.record) }
        defer { cNames.forEach { free($0) } }
        let status = cNames.map { UnsafePointer($0) }.withUnsafeBufferPointer { names in
            ctorch_archive_records(path, names.baseAddress, Int32(records.count), &data, &sizes)
        }
        guard status == 0 else {
            let reason = TorchError.lastShimError().message.split(separator: "\n").first.map(String.init) ?? ""
            throw CheckpointError(path, "not a TorchScript file (\(reason))")
        }
        let crcs = records.indices.map { index in
            var crc = CRC32()
            crc.update(UnsafeRawBufferPointer(start: data[index], count: sizes[index]))
            return crc.checksum
        }
        for (index, record) in records.enumerated() where crcs[index] != record.crc {
            throw CheckpointError(path, "record '\(folder)/\(record.record)' does not match its checksum: the file is damaged (re-export or copy it again)")
        }
    }

    /// A file `torch.jit.save(…, _extra_files={name: …})` stored beside the module, or nil when
    /// the archive has none of that name.
    public static func extraFile(_ name: String, in path: String) throws -> Data? {
        let archive = try ZipArchive(try ReadOnlyFile(path), compressedEntries: true)
        guard let folder = archive.entries.first?.name.prefix(while: { $0 != "/" }),
              archive.entry(named: "\(folder)/extra/\(name)") != nil else { return nil }
        var data: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let record = strdup("extra/\(name)")
        defer { free(record); ctorch_bytes_free(data) }
        var names = [UnsafePointer(record)]
        let status = names.withUnsafeMutableBufferPointer { ctorch_archive_records(path, $0.baseAddress, 1, &data, &size) }
        guard status == 0, let data else {
            throw CheckpointError(path, "cannot read its extra file '\(name)' (\(TorchError.lastShimError().message))")
        }
        return Data(bytes: data, count: size)
    }

    /// Evaluation mode (dropout off, batch norm uses its running statistics), as `module.eval()`.
    public func eval() throws { try check(ctorch_module_set_training(handle, false)) }
    public func train(_ on: Bool = true) throws { try check(ctorch_module_set_training(handle, on)) }

    /// Moves every parameter and buffer to `device` (and converts floating ones to `dtype`).
    public func to(_ device: Device? = nil, dtype: DType? = nil) throws {
        if let device { try device.ensureAvailable() }
        try check(ctorch_module_to(handle, dtype.map { $0.rawValue } ?? -1, device.map { $0.typeCode } ?? -1, device?.index ?? 0))
    }

    public func hasMethod(_ name: String) throws -> Bool {
        var found = false
        try check(ctorch_module_has_method(handle, name, &found))
        return found
    }

    /// Runs `method` with positional `arguments` and `keywords`, as Python's
    /// `module.method(*arguments, **keywords)`.
    public func run(_ method: String = "forward", _ arguments: [ScriptValue] = [],
                    keywords: [(String, ScriptValue)] = []) throws -> ScriptValue {
        try ScriptValue.withHandles(arguments) { args in
            try ScriptValue.withHandles(keywords.map(\.1)) { values in
                var names = keywords.map { strdup($0.0) }
                defer { names.forEach { free($0) } }
                var out: OpaquePointer?
                let status = names.withUnsafeMutableBufferPointer { buffer in
                    buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constNames in
                        ctorch_module_run(handle, method, args, Int32(args.count), constNames.baseAddress,
                                          values, Int32(values.count), &out)
                    }
                }
                try check(status)
                defer { ctorch_value_free(out) }
                return try ScriptValue(handle: out!)
            }
        }
    }

    /// `forward` on tensors, returning its one tensor.
    public func callAsFunction(_ inputs: Tensor...) throws -> Tensor {
        try run("forward", inputs.map { .tensor($0) }).tensor()
    }

    /// Parameters by dotted name, in the module's order (they share storage with the module).
    public func namedParameters() throws -> [(name: String, tensor: Tensor)] { try namedTensors(buffers: false) }

    /// Buffers by dotted name, in the module's order.
    public func namedBuffers() throws -> [(name: String, tensor: Tensor)] { try namedTensors(buffers: true) }

    private func namedTensors(buffers: Bool) throws -> [(name: String, tensor: Tensor)] {
        var out: OpaquePointer?
        try check(ctorch_module_named_tensors(handle, buffers, &out))
        defer { ctorch_value_free(out) }
        guard case .dict(let entries) = try ScriptValue(handle: out!) else { return [] }
        return try entries.map { entry in
            guard case .string(let name) = entry.key else { throw TorchError.invalidArgument("parameter name is not a string") }
            return (name, try entry.value.tensor())
        }
    }

    /// Copies `value` into the parameter or buffer `name` (same shape; converted to its dtype and device).
    public func setTensor(_ name: String, _ value: Tensor) throws {
        try check(ctorch_module_set_tensor(handle, name, value.handle))
    }

    /// An attribute at a dotted path, e.g. a number the exporter stored on the module.
    public func attribute(_ name: String) throws -> ScriptValue {
        var out: OpaquePointer?
        try check(ctorch_module_attribute(handle, name, &out))
        defer { ctorch_value_free(out) }
        return try ScriptValue(handle: out!)
    }
}
