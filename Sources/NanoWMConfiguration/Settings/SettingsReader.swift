import Foundation

/// The one way settings are read out of a composed configuration. Each settings struct reads
/// its keys through a reader when it is decoded, so every key's default and meaning is written
/// once, in the struct's decoder; the rest of the code takes the typed settings.
///
/// Three readings: `required` (OmegaConf's attribute access, a missing key is an error naming
/// the closest ones), `nullable` (the same, with null allowed) and `get` (its `.get`, where an
/// absent key reads as null). In each, a present key of the wrong type is an error naming it.
public struct SettingsReader {
    public let config: ConfigNode
    /// Prefixed to every key (`dataset.loader.`), so messages name keys in full.
    let prefix: String

    init(_ config: ConfigNode, prefix: String = "") {
        self.config = config
        self.prefix = prefix
    }

    func key(_ name: String) -> String {
        let key = prefix + name
        Self.recorder.withLock { _ = $0?.insert(key) }
        return key
    }

    /// The keys read while `body` runs: the schema as the decoders read it, which a test holds
    /// against `KeyPolicy`, so no key is read without being classified.
    public static func keysRead(_ body: () throws -> Void) rethrows -> Set<String> {
        recorder.withLock { $0 = [] }
        defer { recorder.withLock { $0 = nil } }
        try body()
        return recorder.withLock { $0 ?? [] }
    }

    private static let recorder = Recorder()

    /// The keys read while recording (nil: not recording), behind a lock.
    private final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: Set<String>?
        func withLock<T>(_ body: (inout Set<String>?) -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body(&keys)
        }
    }

    /// Whether the key exists (null included).
    func has(_ name: String) -> Bool { config.contains(key(name)) }

    /// The raw node, nil when absent.
    func node(_ name: String) -> ConfigNode? { config[key(name)] }

    func required(_ name: String) throws -> Int { try config.int(key(name)) }
    func required(_ name: String) throws -> Double { try config.double(key(name)) }
    func required(_ name: String) throws -> String { try config.string(key(name)) }
    func required(_ name: String) throws -> Bool { try config.bool(key(name)) }

    /// Present (null gives nil); a missing key is an error.
    func nullable(_ name: String) throws -> Int? { try config.optionalInt(key(name)) }
    func nullable(_ name: String) throws -> Double? { try config.optionalDouble(key(name)) }
    func nullable(_ name: String) throws -> String? { try config.optionalString(key(name)) }
    func nullable(_ name: String) throws -> Bool? { try config.optionalBool(key(name)) }

    func strings(_ name: String) throws -> [String] { try config.strings(key(name)) }

    /// Absent or null gives nil.
    func get(_ name: String) throws -> Int? { try config.ifPresent(key(name), config.optionalInt) }
    func get(_ name: String) throws -> Double? { try config.ifPresent(key(name), config.optionalDouble) }
    func get(_ name: String) throws -> String? { try config.ifPresent(key(name), config.optionalString) }
    func get(_ name: String) throws -> Bool? { try config.ifPresent(key(name), config.optionalBool) }
}
