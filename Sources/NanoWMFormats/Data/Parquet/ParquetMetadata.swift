import Foundation

/// The parts of parquet's footer (`FileMetaData`) and page headers this reader uses, decoded
/// from Thrift compact with the field ids of parquet-format's `parquet.thrift`.
enum ParquetPhysicalType: Int {
    case boolean = 0, int32, int64, int96, float, double, byteArray, fixedLenByteArray

    var name: String {
        ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"][rawValue]
    }
}

enum ParquetCodec {
    static let uncompressed = 0, snappy = 1, zstd = 6
    static func name(_ code: Int) -> String {
        let names = [0: "UNCOMPRESSED", 1: "SNAPPY", 2: "GZIP", 3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD", 7: "LZ4_RAW"]
        return names[code] ?? "codec \(code)"
    }
}

enum ParquetEncoding {
    static let plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, rleDictionary = 8
    static func name(_ code: Int) -> String {
        let names = [0: "PLAIN", 2: "PLAIN_DICTIONARY", 3: "RLE", 4: "BIT_PACKED", 5: "DELTA_BINARY_PACKED",
                     6: "DELTA_LENGTH_BYTE_ARRAY", 7: "DELTA_BYTE_ARRAY", 8: "RLE_DICTIONARY", 9: "BYTE_STREAM_SPLIT"]
        return names[code] ?? "encoding \(code)"
    }
}

struct ParquetSchemaElement {
    var name = ""
    var type: Int?
    var typeLength = 0
    /// 0 required, 1 optional, 2 repeated.
    var repetition = 0
    var childCount = 0
}

struct ParquetColumnMeta {
    var type = 0
    var path: [String] = []
    var codec = 0
    var valueCount = 0
    var compressedSize = 0
    var dataPageOffset = 0
    var dictionaryPageOffset: Int?
}

struct ParquetRowGroup {
    var columns: [ParquetColumnMeta] = []
    var rowCount = 0
}

struct ParquetFileMeta {
    var schema: [ParquetSchemaElement] = []
    var rowCount = 0
    var rowGroups: [ParquetRowGroup] = []
}

struct ParquetPageHeader {
    enum Kind: Int { case data = 0, index, dictionary, dataV2 }
    var kind = 0
    var uncompressedSize = 0
    var compressedSize = 0
    var valueCount = 0
    var encoding = 0
    var definitionLevelEncoding = ParquetEncoding.rle
    var repetitionLevelEncoding = ParquetEncoding.rle
    // Data page v2 only: level byte lengths (stored uncompressed) and whether values are compressed.
    var definitionLevelsLength = 0
    var repetitionLevelsLength = 0
    var isCompressed = true
}

extension ThriftCompactReader {
    mutating func fileMeta() throws -> ParquetFileMeta {
        var meta = ParquetFileMeta()
        try structure { r, id, _ in
            switch id {
            case 2: meta.schema = try r.list { try $0.schemaElement() }
            case 3: meta.rowCount = Int(try r.signed())
            case 4: meta.rowGroups = try r.list { try $0.rowGroup() }
            default: return false
            }
            return true
        }
        return meta
    }

    mutating func schemaElement() throws -> ParquetSchemaElement {
        var e = ParquetSchemaElement()
        try structure { r, id, _ in
            switch id {
            case 1: e.type = Int(try r.int32())
            case 2: e.typeLength = try r.count("type length")
            case 3: e.repetition = Int(try r.int32())
            case 4: e.name = try r.string()
            case 5: e.childCount = try r.count("child count")
            default: return false
            }
            return true
        }
        return e
    }

    mutating func rowGroup() throws -> ParquetRowGroup {
        var g = ParquetRowGroup()
        try structure { r, id, _ in
            switch id {
            case 1: g.columns = try r.list { try $0.columnChunk() }
            case 3: g.rowCount = try r.count("row count", atMost: Int.max)
            default: return false
            }
            return true
        }
        return g
    }

    mutating func columnChunk() throws -> ParquetColumnMeta {
        var column: ParquetColumnMeta?
        var external = false
        try structure { r, id, _ in
            switch id {
            case 1: external = !(try r.string()).isEmpty
            case 3: column = try r.columnMeta()
            default: return false
            }
            return true
        }
        guard !external else { throw Failure(message: "keeps a column in another file, which this reader does not follow") }
        guard let column else { throw Failure(message: "has a column chunk without metadata") }
        return column
    }

    mutating func columnMeta() throws -> ParquetColumnMeta {
        var m = ParquetColumnMeta()
        try structure { r, id, _ in
            switch id {
            case 1: m.type = Int(try r.int32())
            case 3: m.path = try r.list { try $0.string() }
            case 4: m.codec = Int(try r.int32())
            case 5: m.valueCount = try r.count("value count", atMost: Int.max)
            case 7: m.compressedSize = try r.count("column size", atMost: Int.max)
            case 9: m.dataPageOffset = try r.count("page offset", atMost: Int.max)
            case 11: m.dictionaryPageOffset = try r.count("dictionary offset", atMost: Int.max)
            default: return false
            }
            return true
        }
        return m
    }

    mutating func pageHeader() throws -> ParquetPageHeader {
        var h = ParquetPageHeader()
        try structure { r, id, _ in
            switch id {
            case 1: h.kind = Int(try r.int32())
            case 2: h.uncompressedSize = try r.count("page size")
            case 3: h.compressedSize = try r.count("page size")
            case 5: try r.structure { r, id, _ in
                switch id {
                case 1: h.valueCount = try r.count("value count")
                case 2: h.encoding = Int(try r.int32())
                case 3: h.definitionLevelEncoding = Int(try r.int32())
                case 4: h.repetitionLevelEncoding = Int(try r.int32())
                default: return false
                }
                return true
            }
            case 7: try r.structure { r, id, _ in
                switch id {
                case 1: h.valueCount = try r.count("value count")
                case 2: h.encoding = Int(try r.int32())
                default: return false
                }
                return true
            }
            case 8: try r.structure { r, id, type in
                switch id {
                case 1: h.valueCount = try r.count("value count")
                case 4: h.encoding = Int(try r.int32())
                case 5: h.definitionLevelsLength = try r.count("level length")
                case 6: h.repetitionLevelsLength = try r.count("level length")
                case 7: h.isCompressed = type == .boolTrue
                default: return false
                }
                return true
            }
            default: return false
            }
            return true
        }
        return h
    }
}
