import Foundation

/// Python's `json.dumps` text for strings (ensure_ascii: non-ASCII as `\uXXXX`, surrogate
/// pairs beyond the BMP), so names Python hashes come out the same here, and the one JSON
/// string escaper for the files we write by hand (subset files, metrics files).
public enum PythonJSON {
    public static func string(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out += String(UnicodeScalar(UInt8(unit)))
            default: out += String(format: "\\u%04x", unit)
            }
        }
        return out + "\""
    }
}
