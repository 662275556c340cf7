import Foundation
import SwiftTorch
import TestSupport
import XCTest
import PythonCompatible

/// NumPy's legacy MT19937 generator against NumPy running live: raw outputs, the global
/// `seed`+`shuffle` upstream splits trajectories with, `RandomState.choice` without
/// replacement (its fixed validation subsets) and `randint` (its random clip starts). Bitwise.
final class PythonCompatibleTests: XCTestCase {
    func testRawOutputsShuffleChoiceAndRandintEqualNumPy() throws {
        let seeds = [0, 42, 7, 4_294_967_295]
        let expected = try PyTorchBaseline.shared.run("""
        import numpy as np
        for s in \(seeds):
            O[f'raw{s}'] = torch.tensor(np.random.RandomState(s).randint(0, 2**32, size=2000, dtype=np.uint64).astype(np.int64))
            np.random.seed(s)
            a = np.arange(1000); np.random.shuffle(a)
            O[f'shuffle{s}'] = torch.tensor(a)
            O[f'choice{s}'] = torch.tensor(np.random.RandomState(s).choice(500, size=256, replace=False))
            r = np.random.RandomState(s)
            O[f'randint{s}'] = torch.tensor([r.randint(0, m + 1) for m in [1, 2, 3, 5, 6, 100, 981, 65535, 2**31, 2**32 - 2] * 20])
            O[f'small{s}'] = torch.tensor([np.random.RandomState(s).permutation(n).tolist() for n in [1, 2, 3]][2])
        """)
        for seed in seeds {
            var raw = try NumpyRandomState(seed: seed)
            // randint(0, 2**32, dtype=uint64) draws one full 32-bit output per value.
            XCTAssertEqual((0..<2000).map { _ in Int64(raw.nextUInt32()) }, try expected["raw\(seed)"]!.toArray(Int64.self), "raw \(seed)")
            var global = try NumpyRandomState(seed: seed)
            var items = Array(0..<1000)
            global.shuffle(&items)
            XCTAssertEqual(items.map(Int64.init), try expected["shuffle\(seed)"]!.toArray(Int64.self), "shuffle \(seed)")
            var choice = try NumpyRandomState(seed: seed)
            XCTAssertEqual(try choice.choiceWithoutReplacement(500, size: 256).map(Int64.init),
                           try expected["choice\(seed)"]!.toArray(Int64.self), "choice \(seed)")
            var random = try NumpyRandomState(seed: seed)
            let maxima = Array(repeating: [1, 2, 3, 5, 6, 100, 981, 65535, 1 << 31, (1 << 32) - 2], count: 20).flatMap { $0 }
            XCTAssertEqual(try maxima.map { Int64(try random.randint(0, $0 + 1)) }, try expected["randint\(seed)"]!.toArray(Int64.self), "randint \(seed)")
            var small = try NumpyRandomState(seed: seed)
            XCTAssertEqual(small.permutation(3).map(Int64.init), try expected["small\(seed)"]!.toArray(Int64.self))
        }
        XCTAssertThrowsError(try NumpyRandomState(seed: -1))
        XCTAssertThrowsError(try NumpyRandomState(seed: 1 << 32))
    }

    /// `default_rng(seed)` (PCG64 through SeedSequence) against NumPy running live: raw 64- and
    /// 32-bit outputs, bounded draws across the 32/64-bit boundary, and `choice(n, size=k,
    /// replace=False)` on both sides of its tail-shuffle/Floyd cutoff. Bitwise.
    func testDefaultRngEqualsNumPy() throws {
        let seeds: [UInt64] = [0, 42, 7, 1 << 40 + 3]
        let maxima: [UInt64] = [1, 2, 5, 100, 65535, 4_294_967_294, 4_294_967_295, 4_294_967_296, 1 << 40, UInt64.max]
        let choices = [(10, 10), (1000, 256), (10_001, 200), (10_001, 201), (50_000, 999), (50_000, 1001), (200_000, 150_000)]
        let expected = try PyTorchBaseline.shared.run("""
        import numpy as np
        for s in \(seeds):
            g = np.random.default_rng(s)
            raw = g.bit_generator.random_raw(50)
            O[f'raw{s}'] = torch.tensor(raw.view(np.int64))
            g = np.random.default_rng(s)
            O[f'u32{s}'] = torch.tensor(g.integers(0, 2**32, size=7, dtype=np.uint32).astype(np.int64))
            g = np.random.default_rng(s)
            O[f'bounded{s}'] = torch.tensor(np.array([g.integers(0, m, endpoint=True, dtype=np.uint64) for m in \(maxima.map { String($0) })], dtype=np.uint64).view(np.int64))
            for n, k in \(choices.map { [$0.0, $0.1] }):
                O[f'choice{s}_{n}_{k}'] = torch.tensor(np.random.default_rng(s).choice(n, size=k, replace=False))
        """)
        for seed in seeds {
            var raw = NumpyGenerator(seed: seed)
            XCTAssertEqual((0..<50).map { _ in Int64(bitPattern: raw.nextUInt64()) }, try expected["raw\(seed)"]!.toArray(Int64.self), "raw \(seed)")
            var halves = NumpyGenerator(seed: seed)
            XCTAssertEqual((0..<7).map { _ in Int64(halves.nextUInt32()) }, try expected["u32\(seed)"]!.toArray(Int64.self), "32-bit \(seed)")
            var bounded = NumpyGenerator(seed: seed)
            XCTAssertEqual(maxima.map { Int64(bitPattern: bounded.bounded($0)) }, try expected["bounded\(seed)"]!.toArray(Int64.self), "bounded \(seed)")
            for (population, count) in choices {
                var generator = NumpyGenerator(seed: seed)
                XCTAssertEqual(try generator.choiceWithoutReplacement(population: population, count: count).map(Int64.init),
                               try expected["choice\(seed)_\(population)_\(count)"]!.toArray(Int64.self), "choice \(seed) \(population) \(count)")
            }
        }
    }

    /// FIPS 180 test vectors, and Python's hashlib on the texts upstream's cache names hash.
    func testSHA1() throws {
        XCTAssertEqual(SHA1.hex(Array("abc".utf8)), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hex([UInt8]()), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        let text = "(" + (0..<300).map(String.init).joined(separator: ", ") + ")"
        let python = try PyTorchBaseline.shared.run("""
        import hashlib
        O['d'] = torch.tensor(list(hashlib.sha1(repr(tuple(range(300))).encode()).digest()), dtype=torch.uint8)
        """)
        let hex = try python["d"]!.toArray(UInt8.self).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(SHA1.hex(Array(text.utf8)), hex)
    }

    /// `PythonJSON.dumps` writes what Python's `json.dumps` writes (indented and on one line,
    /// keys in order, floats as `repr`, non-ASCII escaped), and `loads` reads it back in order.
    func testJSONDumpsAsPythonAndLoadsInOrder() throws {
        let value: JSONValue = .object([
            ("name", .string("wall")), ("num_frames", .int(4)), ("ratio", .double(0.9)), ("tiny", .double(1e-05)),
            ("big", .double(1e16)), ("neg", .double(-2.5e-300)), ("whole", .double(3.0)), ("flag", .bool(true)),
            ("none", .null), ("list", .array([.int(1), .double(2.5), .array([]), .object([])])),
            ("uni", .string("é✓𝄞\n\"q\"\\")), ("nested", .object([("b", .array([.object([("x", .int(-1))])])), ("a", .array([]))])),
        ])
        let python = try PyTorchBaseline.shared.run("""
        import json
        obj = {"name": "wall", "num_frames": 4, "ratio": 0.9, "tiny": 1e-05, "big": 1e16, "neg": -2.5e-300, "whole": 3.0,
               "flag": True, "none": None, "list": [1, 2.5, [], {}], "uni": "é✓𝄞\\n\\"q\\"\\\\",
               "nested": {"b": [{"x": -1}], "a": []}}
        O['indented'] = torch.tensor(list(json.dumps(obj, indent=2).encode()), dtype=torch.uint8)
        O['line'] = torch.tensor(list(json.dumps(obj).encode()), dtype=torch.uint8)
        """)
        func text(_ name: String) throws -> String { String(decoding: try python[name]!.toArray(UInt8.self), as: UTF8.self) }
        XCTAssertEqual(PythonJSON.dumps(value, indent: 2), try text("indented"))
        XCTAssertEqual(PythonJSON.dumps(value), try text("line"))
        XCTAssertEqual(try PythonJSON.loads(Data(try text("indented").utf8)), value)
        XCTAssertEqual(try PythonJSON.loads(Data("[1, -2.5e3, NaN, -Infinity, \"\\ud834\\udd1e\"]".utf8)),
                       .array([.int(1), .double(-2500), .double(.nan), .double(-.infinity), .string("𝄞")]))
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"open", "[1] 2", String(repeating: "[", count: 600)] {
            XCTAssertThrowsError(try PythonJSON.loads(Data(bad.utf8)), bad)
        }
    }
}
