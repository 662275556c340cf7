import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import NanoWMFormats

/// The parquet reader against pyarrow: files pyarrow writes with every codec, dictionary
/// encoding on and off and data pages v1 and v2 read back value for value as pyarrow reads
/// them; other codecs and encodings, and damaged files, give one line.
final class ParquetReaderTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory("parquet") }
    override func tearDown() { directory.remove() }

    /// Writes `name.parquet` with the given pyarrow options (small pages and row groups, so
    /// files hold several of each) and returns pyarrow's reading of every column.
    private func writeWithPyarrow(_ name: String, options: String) throws -> [String: Tensor] {
        try PyTorchBaseline.shared.run("""
        import numpy as np, pyarrow as pa, pyarrow.parquet as pq
        n = 50
        rng = np.random.default_rng(7)
        lists = [rng.standard_normal(int(k)).astype(np.float32).tolist() for k in rng.integers(0, 5, n)]
        table = pa.table({
            'i64': pa.array((np.arange(n) // 3 * 1000003 - 7).tolist(), pa.int64()),
            'i32': pa.array((np.arange(n) % 5 - 2).tolist(), pa.int32()),
            'f32': pa.array(rng.standard_normal(n).astype(np.float32)),
            'f64': pa.array(rng.standard_normal(n)),
            'flag': pa.array((np.arange(n) % 3 == 0).tolist()),
            'text': pa.array([('row-%d' % (i % 4)) * (i % 3) for i in range(n)]),
            'vec': pa.array(lists, pa.list_(pa.float32())),
        })
        path = \(pythonString(directory.path(name + ".parquet")))
        pq.write_table(table, path, row_group_size=20, data_page_size=64, write_batch_size=8, \(options))
        back = pq.read_table(path)
        O['i64'] = torch.tensor(back['i64'].to_pylist(), dtype=torch.int64)
        O['i32'] = torch.tensor(back['i32'].to_pylist(), dtype=torch.int32)
        O['f32'] = torch.from_numpy(back['f32'].to_numpy().copy())
        O['f64'] = torch.from_numpy(back['f64'].to_numpy().copy())
        O['flag'] = torch.tensor(back['flag'].to_pylist(), dtype=torch.uint8)
        text = [s.encode() for s in back['text'].to_pylist()]
        O['text_bytes'] = torch.tensor(list(b''.join(text)) or [0], dtype=torch.uint8)
        O['text_lengths'] = torch.tensor([len(s) for s in text], dtype=torch.int64)
        vec = back['vec'].to_pylist()
        O['vec_values'] = torch.tensor([v for row in vec for v in row], dtype=torch.float32)
        O['vec_offsets'] = torch.tensor(np.cumsum([0] + [len(r) for r in vec]), dtype=torch.int64)
        """)
    }

    func testEveryCodecEncodingAndPageVersionReadsAsPyarrowReadsIt() throws {
        var files = 0
        for codec in ["none", "snappy", "zstd"] {
            for dictionary in ["True", "False"] {
                for page in ["1.0", "2.0"] {
                    let name = "\(codec)-\(dictionary)-\(page)"
                    let expected = try writeWithPyarrow(name, options: "compression='\(codec)', use_dictionary=\(dictionary), data_page_version='\(page)'")
                    let file = try ParquetFile(url: directory.url.appendingPathComponent(name + ".parquet"))
                    XCTAssertEqual(file.rowCount, 50, name)
                    XCTAssertEqual(file.columnNames, ["i64", "i32", "f32", "f64", "flag", "text", "vec"], name)
                    try compare(file, expected, name)
                    files += 1
                }
            }
        }
        // Format version 1.0 writes the legacy PLAIN_DICTIONARY encoding.
        let legacy = try writeWithPyarrow("legacy", options: "version='1.0', compression='snappy'")
        try compare(try ParquetFile(url: directory.url.appendingPathComponent("legacy.parquet")), legacy, "legacy")
        XCTAssertEqual(files, 12)
    }

    private func compare(_ file: ParquetFile, _ expected: [String: Tensor], _ name: String) throws {
        XCTAssertEqual(try file.read(column: "i64").values, .int64(try expected["i64"]!.toArray(Int64.self)), name)
        XCTAssertEqual(try file.read(column: "i32").values, .int32(try expected["i32"]!.toArray(Int32.self)), name)
        // Floats compared by bit pattern: exact equality, NaN-safe.
        guard case .float(let f32) = try file.read(column: "f32").values, case .double(let f64) = try file.read(column: "f64").values else {
            return XCTFail("\(name): float columns decoded to other types")
        }
        XCTAssertEqual(f32.map(\.bitPattern), try expected["f32"]!.toArray(Float.self).map(\.bitPattern), name)
        XCTAssertEqual(f64.map(\.bitPattern), try expected["f64"]!.toArray(Double.self).map(\.bitPattern), name)
        XCTAssertEqual(try file.read(column: "flag").values, .boolean(try expected["flag"]!.toArray(UInt8.self).map { $0 != 0 }), name)
        guard case .bytes(let strings) = try file.read(column: "text").values else { return XCTFail("\(name): text is not bytes") }
        XCTAssertEqual(strings.map(\.count), try expected["text_lengths"]!.toArray(Int64.self).map { Int($0) }, name)
        XCTAssertEqual(Array(strings.joined()), Array(try expected["text_bytes"]!.toArray(UInt8.self).prefix(strings.joined().count)), name)
        let vec = try file.read(column: "vec")
        guard case .float(let values) = vec.values else { return XCTFail("\(name): vec is not float") }
        XCTAssertEqual(values.map(\.bitPattern), try expected["vec_values"]!.toArray(Float.self).map(\.bitPattern), name)
        XCTAssertEqual(vec.rowOffsets, try expected["vec_offsets"]!.toArray(Int64.self).map { Int($0) }, name)
        XCTAssertEqual(vec.rowCount, 50, name)
    }

    func testOtherCodecsAndEncodingsAreRefusedByName() throws {
        _ = try writeWithPyarrow("gzip", options: "compression='gzip'")
        assertOneLineError({ try ParquetFile(url: directory.url.appendingPathComponent("gzip.parquet")).read(column: "i64") },
                           mentions: ["gzip.parquet", "GZIP", "'i64'"])
        _ = try writeWithPyarrow("delta", options: "use_dictionary=False, column_encoding={'i64': 'DELTA_BINARY_PACKED'}")
        assertOneLineError({ try ParquetFile(url: directory.url.appendingPathComponent("delta.parquet")).read(column: "i64") },
                           mentions: ["delta.parquet", "DELTA_BINARY_PACKED"])
        assertOneLineError({ try ParquetFile(url: directory.url.appendingPathComponent("delta.parquet")).read(column: "nope") },
                           mentions: ["no column 'nope'", "i64"])
        assertOneLineError({ try ParquetFile(url: directory.url.appendingPathComponent("missing.parquet")) },
                           mentions: ["missing.parquet", "no such file"])
    }

    /// Truncations at many lengths and single-byte corruptions all over a snappy and a zstd
    /// file: each read either succeeds or fails with one line naming the file; none crashes.
    func testTruncatedAndCorruptedFilesGiveOneLineErrors() throws {
        for codec in ["snappy", "zstd"] {
            _ = try writeWithPyarrow(codec, options: "compression='\(codec)', data_page_version='2.0'")
            let original = [UInt8](try Data(contentsOf: directory.url.appendingPathComponent(codec + ".parquet")))
            let url = directory.url.appendingPathComponent("damaged.parquet")
            var failures = 0
            func attempt(_ bytes: [UInt8]) {
                do {
                    let file = try ParquetFile(bytes: bytes, url: url)
                    for column in file.columnNames { _ = try file.read(column: column) }
                } catch {
                    failures += 1
                    let text = "\(error)"
                    XCTAssertFalse(text.contains("\n"), text)
                    XCTAssertTrue(text.contains("damaged.parquet") || text.contains("corrupt"), text)
                }
            }
            for length in stride(from: 0, to: original.count, by: max(1, original.count / 97)) { attempt(Array(original.prefix(length))) }
            var generator = SeededRandom(seed: 11)
            for _ in 0..<400 {
                var bytes = original
                let at = Int(generator.next() % UInt64(bytes.count))
                bytes[at] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                attempt(bytes)
            }
            XCTAssertGreaterThan(failures, 97, "\(codec): truncated files must fail")
        }
    }
}
