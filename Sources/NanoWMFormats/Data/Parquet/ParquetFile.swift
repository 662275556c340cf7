import Foundation
import SwiftTorch

/// A small Apache Parquet reader for the files LeRobot (through Hugging Face `datasets` and
/// pyarrow) writes: flat columns of BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY and
/// FIXED_LEN_BYTE_ARRAY, and single-level lists of them (`list<float32>` actions and states);
/// PLAIN and dictionary encodings, RLE/bit-packed levels, data pages v1 and v2, uncompressed,
/// Snappy or Zstandard. Anything else is refused with one line naming the file and what it uses.
public final class ParquetFile {
    /// A leaf column of the schema, with the levels its nesting implies.
    struct Leaf {
        var path: [String]
        var type: ParquetPhysicalType
        var typeLength: Int
        var maxDefinition: Int
        var maxRepetition: Int
        /// The definition level at which a list's element slot exists (lists only).
        var elementDefinition: Int
    }

    public let url: URL
    public let rowCount: Int
    let bytes: [UInt8]
    let meta: ParquetFileMeta
    let leaves: [Leaf]

    /// Top-level column names, in schema order.
    public var columnNames: [String] {
        leaves.reduce(into: [String]()) { names, leaf in if names.last != leaf.path[0] { names.append(leaf.path[0]) } }
    }

    public convenience init(url: URL) throws {
        let data: Data
        do {
            data = try RegularFile.data(url.path)
        } catch {
            throw DataError("\(error) (a parquet file); check the dataset's path")
        }
        try self.init(bytes: [UInt8](data), url: url)
    }

    /// Parses a parquet file held in memory (`url` only names it in errors).
    public init(bytes: [UInt8], url: URL) throws {
        self.url = url
        self.bytes = bytes
        let magic: [UInt8] = Array("PAR1".utf8)
        guard bytes.count >= 12, Array(bytes[0..<4]) == magic, Array(bytes[(bytes.count - 4)...]) == magic else {
            throw DataError("\(url.path): not a parquet file, or truncated (no PAR1 marks at both ends); copy the file again")
        }
        let footerLength = bytes[(bytes.count - 8)..<(bytes.count - 4)].enumerated()
            .reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let footerStart = bytes.count - 8 - footerLength
        guard footerLength > 0, footerStart >= 4 else {
            throw DataError("\(url.path): parquet footer length \(footerLength) does not fit the file (truncated or corrupt)")
        }
        do {
            var reader = ThriftCompactReader(bytes, from: footerStart, to: bytes.count - 8)
            meta = try reader.fileMeta()
        } catch let failure as ThriftCompactReader.Failure {
            throw DataError("\(url.path): parquet footer \(failure.message) (truncated or corrupt file)")
        }
        guard meta.rowCount >= 0 else { throw DataError("\(url.path): parquet footer gives a negative row count") }
        rowCount = meta.rowCount
        leaves = try Self.leaves(of: meta.schema, url: url)
    }

    /// Reads every row of the top-level column `name`.
    public func read(column name: String) throws -> ParquetColumn {
        let matching = leaves.indices.filter { leaves[$0].path[0] == name }
        guard let index = matching.first else {
            throw DataError("\(url.path): no column '\(name)' (columns: \(columnNames.joined(separator: ", ")))")
        }
        guard matching.count == 1 else {
            throw DataError("\(url.path): column '\(name)' is a struct of \(matching.count) fields, which this parquet reader does not read")
        }
        return try ParquetColumnReader(file: self, leafIndex: index, name: name).read()
    }

    /// Walks the flattened schema (depth first, children counted) into leaf columns.
    private static func leaves(of schema: [ParquetSchemaElement], url: URL) throws -> [Leaf] {
        guard let root = schema.first else { throw DataError("\(url.path): parquet schema is empty (corrupt file)") }
        var leaves: [Leaf] = []
        var next = 1
        func walk(_ count: Int, path: [String], definition: Int, repetition: Int, element: Int, depth: Int) throws {
            guard depth < 16 else { throw DataError("\(url.path): parquet schema nests deeper than 16 levels") }
            for _ in 0..<count {
                guard next < schema.count else { throw DataError("\(url.path): parquet schema lists fewer fields than it claims (corrupt file)") }
                let e = schema[next]
                next += 1
                let def = definition + (e.repetition == 0 ? 0 : 1)
                let rep = repetition + (e.repetition == 2 ? 1 : 0)
                let elementLevel = e.repetition == 2 ? def : element
                if e.childCount > 0 {
                    try walk(e.childCount, path: path + [e.name], definition: def, repetition: rep, element: elementLevel, depth: depth + 1)
                } else {
                    guard let code = e.type, let type = ParquetPhysicalType(rawValue: code) else {
                        throw DataError("\(url.path): parquet column '\((path + [e.name]).joined(separator: "."))' has no valid type (corrupt file)")
                    }
                    leaves.append(Leaf(path: path + [e.name], type: type, typeLength: e.typeLength,
                                       maxDefinition: def, maxRepetition: rep, elementDefinition: elementLevel))
                }
            }
        }
        try walk(root.childCount, path: [], definition: 0, repetition: 0, element: 0, depth: 0)
        return leaves
    }
}
