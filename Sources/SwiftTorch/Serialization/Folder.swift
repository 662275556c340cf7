import Foundation

/// Making the folders outputs go to, with failures in one line: Foundation's own error is a
/// multi-line `NSCocoaErrorDomain` dump that does not say which folder or why.
public enum Folder {
    /// Creates `url` and its missing parents; a folder that exists is fine.
    public static func create(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(url.path, "cannot create this folder: \(reason(creating: url))")
        }
    }

    /// Why `url` cannot be created, from its nearest existing ancestor.
    static func reason(creating url: URL) -> String {
        var ancestor = url.standardizedFileURL
        while ancestor.path != "/" && !FileManager.default.fileExists(atPath: ancestor.path) {
            ancestor = ancestor.deletingLastPathComponent()
        }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder), !isFolder.boolValue {
            return "\(ancestor.path) is a file, not a folder"
        }
        if access(ancestor.path, W_OK) != 0 {
            return "\(ancestor.path): \(String(cString: strerror(errno)))"
        }
        return "\(ancestor.path) is not writable here"
    }
}
