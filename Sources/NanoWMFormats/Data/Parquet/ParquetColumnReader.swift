import CCompressionShim
import Foundation

/// Decodes one leaf column of a parquet file, page by page over every row group, into
/// `ParquetColumn`. Sizes and counts from the file are checked before they are used, so a
/// corrupt or hostile file ends in one `DataError` line.
struct ParquetColumnReader {
    let file: ParquetFile
    let leafIndex: Int
    let name: String

    /// No page of a LeRobot episode comes near these; they stop a hostile header from asking
    /// for gigabytes.
    static let maxPageBytes = 1 << 28
    static let maxValues = 1 << 26

    private var leaf: ParquetFile.Leaf { file.leaves[leafIndex] }
    private var bytes: [UInt8] { file.bytes }

    func read() throws -> ParquetColumn {
        var values: ParquetColumn.Values?
        var offsets: [Int]? = leaf.maxRepetition > 0 ? [] : nil
        for (g, group) in file.meta.rowGroups.enumerated() {
            guard leafIndex < group.columns.count, group.columns[leafIndex].path == leaf.path else {
                throw fail("row group \(g) lacks this column (corrupt footer)")
            }
            try readChunk(group.columns[leafIndex], into: &values, offsets: &offsets)
        }
        let all = try values ?? plain(0, 0..<0)
        offsets?.append(all.count)
        let column = ParquetColumn(name: name, values: all, rowOffsets: offsets)
        guard column.rowCount == file.rowCount else {
            throw fail("holds \(column.rowCount) rows, the footer says \(file.rowCount) (corrupt file)")
        }
        return column
    }

    private func fail(_ message: String) -> DataError {
        DataError("\(file.url.path): parquet column '\(name)' \(message)")
    }

    private func refuse(_ what: String) -> DataError {
        DataError("\(file.url.path): parquet column '\(name)' uses \(what), which this reader does not support (LeRobot files use PLAIN or dictionary encodings, uncompressed, SNAPPY or ZSTD); rewrite the file with pyarrow's defaults")
    }

    private func readChunk(_ chunk: ParquetColumnMeta, into values: inout ParquetColumn.Values?, offsets: inout [Int]?) throws {
        guard chunk.type == leaf.type.rawValue else { throw fail("has type \(chunk.type) in a row group, \(leaf.type.name) in the schema (corrupt file)") }
        guard [ParquetCodec.uncompressed, ParquetCodec.snappy, ParquetCodec.zstd].contains(chunk.codec) else {
            throw refuse("the \(ParquetCodec.name(chunk.codec)) codec")
        }
        guard leaf.maxRepetition <= 1 else { throw refuse("nested lists") }
        guard leaf.type != .int96 else { throw refuse("the INT96 type") }
        guard chunk.valueCount <= Self.maxValues else { throw fail("claims \(chunk.valueCount) values (corrupt file)") }
        var position = chunk.dataPageOffset
        if let dictionary = chunk.dictionaryPageOffset, dictionary > 0, dictionary < position { position = dictionary }
        let end = bytes.count - 8
        var dictionary: ParquetColumn.Values?
        var slots = 0
        while slots < chunk.valueCount {
            guard position >= 4, position < end else { throw fail("has a page outside the file (truncated or corrupt)") }
            var reader = ThriftCompactReader(bytes, from: position, to: end)
            let header: ParquetPageHeader
            do { header = try reader.pageHeader() } catch let f as ThriftCompactReader.Failure {
                throw fail("has a page header that \(f.message) (truncated or corrupt file)")
            }
            let body = reader.position
            guard header.compressedSize <= end - body, header.uncompressedSize <= Self.maxPageBytes else {
                throw fail("has a page larger than the file (truncated or corrupt)")
            }
            position = body + header.compressedSize
            switch ParquetPageHeader.Kind(rawValue: header.kind) {
            case .dictionary:
                let data = try decompress(body..<position, codec: chunk.codec, size: header.uncompressedSize)
                guard header.encoding == ParquetEncoding.plain || header.encoding == ParquetEncoding.plainDictionary else {
                    throw refuse("a dictionary page in \(ParquetEncoding.name(header.encoding))")
                }
                dictionary = try plain(header.valueCount, data.indices, in: data)
            case .data, .dataV2:
                guard header.valueCount <= chunk.valueCount - slots else { throw fail("has more values than its footer states (corrupt file)") }
                try readDataPage(header, body..<position, codec: chunk.codec, dictionary: dictionary, into: &values, offsets: &offsets)
                slots += header.valueCount
            default:
                continue  // index pages carry nothing this reader needs
            }
        }
    }

    private func readDataPage(_ header: ParquetPageHeader, _ range: Range<Int>, codec: Int, dictionary: ParquetColumn.Values?,
                              into values: inout ParquetColumn.Values?, offsets: inout [Int]?) throws {
        let count = header.valueCount
        let repetition: [UInt32], definition: [UInt32], data: [UInt8], valueRange: Range<Int>
        if header.kind == ParquetPageHeader.Kind.dataV2.rawValue {
            // v2: levels first, never compressed and without length prefixes; then the values.
            let levelBytes = header.repetitionLevelsLength + header.definitionLevelsLength
            guard levelBytes <= range.count, levelBytes <= header.uncompressedSize else { throw fail("has levels longer than their page (corrupt file)") }
            let repEnd = range.lowerBound + header.repetitionLevelsLength
            repetition = try levels(bytes, range.lowerBound..<repEnd, max: leaf.maxRepetition, count: count)
            definition = try levels(bytes, repEnd..<(range.lowerBound + levelBytes), max: leaf.maxDefinition, count: count)
            let rest = (range.lowerBound + levelBytes)..<range.upperBound
            data = header.isCompressed ? try decompress(rest, codec: codec, size: header.uncompressedSize - levelBytes) : Array(bytes[rest])
            valueRange = data.indices
        } else {
            let page = try decompress(range, codec: codec, size: header.uncompressedSize)
            guard header.repetitionLevelEncoding == ParquetEncoding.rle || leaf.maxRepetition == 0,
                  header.definitionLevelEncoding == ParquetEncoding.rle || leaf.maxDefinition == 0 else {
                throw refuse("\(ParquetEncoding.name(header.definitionLevelEncoding)) levels")
            }
            var cursor = 0
            repetition = try prefixedLevels(page, &cursor, max: leaf.maxRepetition, count: count)
            definition = try prefixedLevels(page, &cursor, max: leaf.maxDefinition, count: count)
            data = page
            valueRange = cursor..<page.count
        }
        let present = leaf.maxDefinition == 0 ? count : definition.reduce(0) { $0 + ($1 == leaf.maxDefinition ? 1 : 0) }
        let decoded = try pageValues(header.encoding, present, valueRange, in: data, dictionary: dictionary)
        try appendRows(repetition: repetition, definition: definition, count: count, valueBase: values?.count ?? 0, offsets: &offsets)
        values = try values.map { try $0.appending(decoded) } ?? decoded
    }

    /// Row boundaries from the levels; nulls are refused (LeRobot writes none).
    private func appendRows(repetition: [UInt32], definition: [UInt32], count: Int, valueBase: Int, offsets: inout [Int]?) throws {
        var next = valueBase
        for i in 0..<count {
            let def = leaf.maxDefinition == 0 ? 0 : Int(definition[i])
            if leaf.maxRepetition == 0 {
                guard def == leaf.maxDefinition else { throw fail("has a null value, which this reader does not support; fill it before writing") }
                continue
            }
            if repetition[i] == 0 { offsets?.append(next) } else if offsets?.isEmpty == true {
                throw fail("continues a row that never started (corrupt file)")
            }
            if def == leaf.maxDefinition { next += 1 } else if def >= leaf.elementDefinition {
                throw fail("has a null list element, which this reader does not support; fill it before writing")
            } else if def < leaf.elementDefinition - 1 {
                throw fail("has a null list, which this reader does not support; fill it before writing")
            }
        }
    }

    private func levels(_ data: [UInt8], _ range: Range<Int>, max: Int, count: Int) throws -> [UInt32] {
        guard max > 0 else { return [] }
        do {
            let out = try RLEBitPackedHybrid.decode(data, range, bitWidth: RLEBitPackedHybrid.bitWidth(for: max), count: count)
            guard out.allSatisfy({ $0 <= max }) else { throw fail("has a level above \(max) (corrupt file)") }
            return out
        } catch let f as RLEBitPackedHybrid.Failure { throw fail("\(f.message) (truncated or corrupt file)") }
    }

    /// v1 levels: a 4-byte little-endian length, then the RLE/bit-packed data.
    private func prefixedLevels(_ page: [UInt8], _ cursor: inout Int, max: Int, count: Int) throws -> [UInt32] {
        guard max > 0 else { return [] }
        guard page.count - cursor >= 4 else { throw fail("has a page that ends in its levels (corrupt file)") }
        let length = (0..<4).reduce(0) { $0 | Int(page[cursor + $1]) << (8 * $1) }
        cursor += 4
        guard length <= page.count - cursor else { throw fail("has levels longer than their page (corrupt file)") }
        defer { cursor += length }
        return try levels(page, cursor..<(cursor + length), max: max, count: count)
    }

    private func pageValues(_ encoding: Int, _ present: Int, _ range: Range<Int>, in data: [UInt8],
                            dictionary: ParquetColumn.Values?) throws -> ParquetColumn.Values {
        switch encoding {
        case ParquetEncoding.plain:
            return try plain(present, range, in: data)
        case ParquetEncoding.plainDictionary, ParquetEncoding.rleDictionary:
            guard let dictionary else { throw fail("has a dictionary-encoded page without a dictionary page (corrupt file)") }
            guard present > 0 else { return try dictionary.gathered([]) }
            guard !range.isEmpty else { throw fail("has a dictionary page that ends early (corrupt file)") }
            let indices: [UInt32]
            do {
                indices = try RLEBitPackedHybrid.decode(data, (range.lowerBound + 1)..<range.upperBound,
                                                        bitWidth: Int(data[range.lowerBound]), count: present)
            } catch let f as RLEBitPackedHybrid.Failure { throw fail("\(f.message) (truncated or corrupt file)") }
            guard indices.allSatisfy({ Int($0) < dictionary.count }) else { throw fail("indexes past its dictionary (corrupt file)") }
            return try dictionary.gathered(indices)
        case ParquetEncoding.rle where leaf.type == .boolean:
            guard range.count >= 4 else { throw fail("has a boolean page that ends early (corrupt file)") }
            do {
                let bits = try RLEBitPackedHybrid.decode(data, (range.lowerBound + 4)..<range.upperBound, bitWidth: 1, count: present)
                return .boolean(bits.map { $0 != 0 })
            } catch let f as RLEBitPackedHybrid.Failure { throw fail("\(f.message) (truncated or corrupt file)") }
        default:
            throw refuse("the \(ParquetEncoding.name(encoding)) encoding")
        }
    }

    /// PLAIN-encoded values: little-endian fixed widths, bit-packed booleans, length-prefixed byte arrays.
    private func plain(_ count: Int, _ range: Range<Int>, in data: [UInt8] = []) throws -> ParquetColumn.Values {
        let available = range.count
        func fixed<T>(_ width: Int, _ type: T.Type) throws -> [T] {
            guard count <= available / width else { throw fail("has \(count) values in \(available) bytes (truncated or corrupt file)") }
            return data.withUnsafeBytes { raw in
                (0..<count).map { raw.loadUnaligned(fromByteOffset: range.lowerBound + $0 * width, as: T.self) }
            }
        }
        switch leaf.type {
        case .boolean:
            guard count <= available * 8 else { throw fail("has \(count) booleans in \(available) bytes (corrupt file)") }
            return .boolean((0..<count).map { data[range.lowerBound + $0 / 8] >> UInt8($0 % 8) & 1 == 1 })
        case .int32: return .int32(try fixed(4, Int32.self).map { Int32(littleEndian: $0) })
        case .int64: return .int64(try fixed(8, Int64.self).map { Int64(littleEndian: $0) })
        case .float: return .float(try fixed(4, UInt32.self).map { Float(bitPattern: UInt32(littleEndian: $0)) })
        case .double: return .double(try fixed(8, UInt64.self).map { Double(bitPattern: UInt64(littleEndian: $0)) })
        case .fixedLenByteArray:
            guard leaf.typeLength > 0, count <= available / leaf.typeLength else { throw fail("has fixed-length values that do not fit their page (corrupt file)") }
            return .bytes((0..<count).map { Array(data[(range.lowerBound + $0 * leaf.typeLength)..<(range.lowerBound + ($0 + 1) * leaf.typeLength)]) })
        case .byteArray:
            guard count <= available / 4 else { throw fail("has \(count) strings in \(available) bytes (corrupt file)") }
            var out: [[UInt8]] = []
            out.reserveCapacity(count)
            var p = range.lowerBound
            for _ in 0..<count {
                guard range.upperBound - p >= 4 else { throw fail("has a string that ends early (truncated or corrupt file)") }
                let n = (0..<4).reduce(0) { $0 | Int(data[p + $1]) << (8 * $1) }
                p += 4
                guard n <= range.upperBound - p else { throw fail("has a string that ends early (truncated or corrupt file)") }
                out.append(Array(data[p..<(p + n)]))
                p += n
            }
            return .bytes(out)
        case .int96: throw refuse("the INT96 type")
        }
    }

    private func decompress(_ range: Range<Int>, codec: Int, size: Int) throws -> [UInt8] {
        guard size >= 0, size <= Self.maxPageBytes else { throw fail("has a page of \(size) bytes (corrupt file)") }
        if codec == ParquetCodec.uncompressed {
            guard range.count == size else { throw fail("has an uncompressed page of \(range.count) bytes, its header says \(size) (corrupt file)") }
            return Array(bytes[range])
        }
        var out = [UInt8](repeating: 0, count: size)
        var error = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                let source = input.baseAddress! + range.lowerBound
                return codec == ParquetCodec.snappy
                    ? ccompression_snappy(source, range.count, output.baseAddress, size, &error, error.count)
                    : ccompression_zstd(source, range.count, output.baseAddress, size, &error, error.count)
            }
        }
        guard status == 0 else { throw fail("has a page that does not decompress: \(String(cString: error)) (truncated or corrupt file)") }
        return out
    }
}

extension ParquetColumn.Values {
    /// The dictionary entries at `indices` (already checked to be in range).
    func gathered(_ indices: [UInt32]) throws -> Self {
        switch self {
        case .boolean(let v): return .boolean(indices.map { v[Int($0)] })
        case .int32(let v): return .int32(indices.map { v[Int($0)] })
        case .int64(let v): return .int64(indices.map { v[Int($0)] })
        case .float(let v): return .float(indices.map { v[Int($0)] })
        case .double(let v): return .double(indices.map { v[Int($0)] })
        case .bytes(let v): return .bytes(indices.map { v[Int($0)] })
        }
    }

    func appending(_ other: Self) throws -> Self {
        switch (self, other) {
        case (.boolean(let a), .boolean(let b)): return .boolean(a + b)
        case (.int32(let a), .int32(let b)): return .int32(a + b)
        case (.int64(let a), .int64(let b)): return .int64(a + b)
        case (.float(let a), .float(let b)): return .float(a + b)
        case (.double(let a), .double(let b)): return .double(a + b)
        case (.bytes(let a), .bytes(let b)): return .bytes(a + b)
        default: throw DataError("parquet pages of one column decode to different types (corrupt file)")
        }
    }
}
