import Foundation

/// How upstream's statistics cache names a source (`stats_cache._identity` and
/// `_storage_root`): `data_path=<str(Path(data_path))>`, stored under that folder when it
/// exists (else `~/.cache/nano-world-model`).
enum StatisticsIdentity {
    static func dataPath(_ path: String) -> (id: String, root: URL?) {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
        return ("data_path=\(path)", exists ? URL(fileURLWithPath: path) : nil)
    }

    /// `str(pathlib.PurePosixPath(text))`: repeated and trailing slashes and `.` parts dropped.
    static func pathlibText(_ text: String) -> String {
        let parts = text.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = parts.joined(separator: "/")
        if text.hasPrefix("/") { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}
