import Foundation

/// Coloured point clouds as binary little-endian PLY, the layout the reference's `save_ply`
/// writes and viewers (MeshLab, Open3D, CloudCompare) read: `float x, y, z; uchar red, green,
/// blue`, 15 bytes a point.
public enum PLYFile {
    public static func header(count: Int) -> String {
        "ply\nformat binary_little_endian 1.0\nelement vertex \(count)\n"
            + "property float x\nproperty float y\nproperty float z\n"
            + "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    }

    /// The file's bytes for `points` (x, y, z of each point in turn) and `colors` (r, g, b).
    public static func encode(points: [Float], colors: [UInt8]) throws -> Data {
        guard points.count % 3 == 0, colors.count == points.count else {
            throw MediaError("a point cloud needs 3 coordinates and 3 colour bytes a point (got \(points.count) and \(colors.count))")
        }
        let count = points.count / 3
        guard count > 0 else { throw MediaError("no points to save; lower the confidence percentile") }
        var data = Data(header(count: count).utf8)
        data.reserveCapacity(data.count + 15 * count)
        for i in 0..<count {
            for axis in 0..<3 { withUnsafeBytes(of: points[3 * i + axis].bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            data.append(contentsOf: colors[(3 * i)..<(3 * i + 3)])
        }
        return data
    }

    /// Writes the file whole or not at all (a temporary file renamed into place).
    public static func write(points: [Float], colors: [UInt8], to url: URL) throws {
        let data = try encode(points: points, colors: colors)
        try data.write(to: url, options: .atomic)
    }

    /// A file of this layout read back: points and colours.
    public static func read(_ url: URL) throws -> (points: [Float], colors: [UInt8]) {
        let data = try Data(contentsOf: url)
        guard let end = data.range(of: Data("end_header\n".utf8)) else {
            throw MediaError("\(url.path): not a PLY file (no end_header)")
        }
        let headerText = String(decoding: data[..<end.lowerBound], as: UTF8.self)
        let lines = headerText.split(separator: "\n").map(String.init)
        guard lines.first == "ply", lines.contains("format binary_little_endian 1.0"),
              let vertexLine = lines.first(where: { $0.hasPrefix("element vertex ") }),
              let count = Int(vertexLine.dropFirst("element vertex ".count)), count >= 0 else {
            throw MediaError("\(url.path): not a binary little-endian PLY point cloud")
        }
        guard headerText + "end_header\n" == header(count: count) else {
            throw MediaError("\(url.path): a PLY layout other than float x, y, z and uchar red, green, blue")
        }
        let body = data[end.upperBound...]
        guard body.count == 15 * count else {
            throw MediaError("\(url.path): \(body.count) bytes of points where \(count) points take \(15 * count) (truncated?)")
        }
        var points = [Float](repeating: 0, count: 3 * count), colors = [UInt8](repeating: 0, count: 3 * count)
        body.withUnsafeBytes { raw in
            for i in 0..<count {
                for axis in 0..<3 {
                    points[3 * i + axis] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 15 * i + 4 * axis, as: UInt32.self)))
                }
                for channel in 0..<3 { colors[3 * i + channel] = raw[15 * i + 12 + channel] }
            }
        }
        return (points, colors)
    }
}
