import Foundation

/// One parquet column's decoded values, row by row: the non-null leaf values in order, and for
/// list columns the offsets that cut them into rows.
public struct ParquetColumn {
    public enum Values: Equatable {
        case boolean([Bool])
        case int32([Int32])
        case int64([Int64])
        case float([Float])
        case double([Double])
        case bytes([[UInt8]])

        public var count: Int {
            switch self {
            case .boolean(let v): return v.count
            case .int32(let v): return v.count
            case .int64(let v): return v.count
            case .float(let v): return v.count
            case .double(let v): return v.count
            case .bytes(let v): return v.count
            }
        }
    }

    public let name: String
    public let values: Values
    /// For a list column, row `i` holds `values[rowOffsets[i] ..< rowOffsets[i + 1]]`; nil for a
    /// column of one value per row.
    public let rowOffsets: [Int]?

    public var rowCount: Int { rowOffsets.map { $0.count - 1 } ?? values.count }

    /// The values as Double (integers and floats alike; booleans as 0/1), for numeric use.
    public var doubles: [Double]? {
        switch values {
        case .boolean(let v): return v.map { $0 ? 1 : 0 }
        case .int32(let v): return v.map(Double.init)
        case .int64(let v): return v.map(Double.init)
        case .float(let v): return v.map(Double.init)
        case .double(let v): return v
        case .bytes: return nil
        }
    }
}
