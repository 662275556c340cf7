import Foundation
@testable import SwiftTorch
import TestSupport
import XCTest

/// Our `torch.save` reader and writer against real PyTorch: files Python writes load here with
/// identical values, files we write load in Python with `weights_only=True`, and hostile or
/// damaged files are refused with one clear line.
final class TorchArchiveTests: XCTestCase {
    private var scratch: TemporaryDirectory!

    override func setUpWithError() throws { scratch = try TemporaryDirectory("archive-tests") }
    override func tearDown() { scratch.remove() }

    private func path(_ name: String) -> String { scratch.path(name) }

    /// A Lightning-shaped checkpoint as upstream saves it: model and codec weights, bf16 and
    /// f16, views sharing a storage, and hyper-parameters holding objects of arbitrary classes.
    func testLightningCheckpointFromPython() throws {
        let file = path("lightning.ckpt")
        let expected = try PyTorchBaseline.shared.run("""
        import argparse, collections, sys, types
        hp = types.ModuleType('user_hparams')
        exec('class RunSettings:\\n    def __init__(self): self.depth = 12; self.name = "b2"', hp.__dict__)
        sys.modules['user_hparams'] = hp
        g = torch.Generator().manual_seed(7)
        base = torch.randn(6, 8, generator=g)
        sd = collections.OrderedDict()
        sd['model.blocks.0.attn.qkv.weight'] = torch.randn(12, 4, generator=g)
        sd['model.t_embedder.mlp.0.bias'] = torch.randn(4, generator=g).to(torch.bfloat16)
        sd['model.final_layer.linear.weight'] = torch.randn(3, 5, generator=g).to(torch.float16)
        sd['model.view_rows'] = base[1:4]
        sd['model.view_transposed'] = base.t()
        sd['model.view_strided'] = base[:, ::3]
        sd['model.steps'] = torch.arange(5)
        sd['vae.encoder.conv_in.weight'] = torch.randn(2, 3, generator=g)
        ckpt = {'epoch': 3, 'global_step': 1200, 'pytorch-lightning_version': '2.5.0',
                'state_dict': sd,
                'hyper_parameters': {'args': argparse.Namespace(lr=1e-4, name='nanowm', sizes=[1, 2]),
                                     'settings': hp.RunSettings()},
                'optimizer_states': [], 'lr_schedulers': []}
        torch.save(ckpt, \(pythonString(file)))
        for k, v in sd.items(): O[k] = v
        """)
        let checkpoint = try Checkpoint.open(file)
        XCTAssertEqual(checkpoint.format, .torch)
        XCTAssertEqual(checkpoint.root["epoch"]?.int, 3)
        XCTAssertEqual(checkpoint.root["global_step"]?.int, 1200)

        // Arbitrary classes arrive as inert records of what they held.
        guard case .object(let namespace)? = checkpoint.root["hyper_parameters"]?["args"] else {
            return XCTFail("argparse.Namespace should load as an inert object")
        }
        XCTAssertEqual(namespace.qualifiedName, "argparse.Namespace")
        XCTAssertEqual(namespace.state?["name"]?.string, "nanowm")
        XCTAssertEqual(namespace.state?["lr"]?.double, 1e-4)
        guard case .object(let settings)? = checkpoint.root["hyper_parameters"]?["settings"] else {
            return XCTFail("a user class should load as an inert object")
        }
        XCTAssertEqual(settings.qualifiedName, "user_hparams.RunSettings")
        XCTAssertEqual(settings.state?["depth"]?.int, 12)

        let tensors = try checkpoint.stateDict()
        XCTAssertEqual(tensors.map(\.0), expected.keys.sorted { a, b in
            tensors.firstIndex { $0.0 == a }! < tensors.firstIndex { $0.0 == b }!
        })
        for (name, ref) in tensors {
            try assertExactlyEqual(try ref.load(), expected[name], name)
        }
        // The three views come from one storage, as they were saved.
        let views = tensors.filter { $0.0.hasPrefix("model.view_") }.map { $0.1.storage?.key }
        XCTAssertEqual(Set(views.compactMap { $0 }).count, 1)
    }

    /// Reading straight into preallocated tensors gives the same values as loading; 3 MB takes
    /// the parallel read path.
    func testReadIntoPreallocatedTensor() throws {
        let file = path("bare.pt")
        let expected = try PyTorchBaseline.shared.run("""
        sd = {'w': torch.randn(1024, 768, generator=torch.Generator().manual_seed(3))}
        torch.save(sd, \(pythonString(file)))
        O['w'] = sd['w']
        """)
        let ref = try XCTUnwrap(try Checkpoint.open(file).stateDict().first?.1)
        let destination = try Tensor.zeros([1024, 768])
        try ref.read(into: destination)
        try assertExactlyEqual(destination, expected["w"])
    }

    func testSafeTensorsThroughTheSameEntryPoint() throws {
        let file = path("weights.safetensors")
        let expected = try PyTorchBaseline.shared.run("""
        from safetensors.torch import save_file
        t = {'a': torch.randn(3, 4), 'b': torch.arange(6, dtype=torch.int32).to(torch.bfloat16)}
        save_file(t, \(pythonString(file)), metadata={'format': 'pt'})
        O.update(t)
        """)
        let checkpoint = try Checkpoint.open(file)
        XCTAssertEqual(checkpoint.format, .safetensors)
        XCTAssertEqual(checkpoint.metadata["format"], "pt")
        for (name, ref) in try checkpoint.stateDict() {
            try assertExactlyEqual(try ref.load(), expected[name], name)
        }
    }

    /// Our writer → `torch.load(weights_only=True)`: same keys (in order), dtypes, shapes
    /// and bits, and plain values survive too.
    func testPythonLoadsWhatWeWriteWithWeightsOnly() throws {
        let file = path("ours.ckpt")
        let tensors: [(String, Tensor)] = [
            ("f32", try Tensor.randn([3, 5])),
            ("bf16", try Tensor.randn([4]).to(.bfloat16)),
            ("f16", try Tensor.randn([2, 2]).to(.float16)),
            ("f64", try Tensor.randn([2]).to(.float64)),
            ("i64", try Tensor.arange(0, 7)),
            ("i32", try Tensor.arange(0, 3).to(.int32)),
            ("u8", try Tensor.arange(0, 4).to(.uint8)),
            ("bool", try Tensor.arange(0, 4).gt(1)),
            ("transposed", try Tensor.randn([3, 4]).transpose(0, 1)),
            ("scalar", try Tensor.full([], 2.5)),
            ("empty", try Tensor.zeros([0, 3])),
        ]
        let stateDict = PickleDict(ordered: true)
        for (name, tensor) in tensors { stateDict[name] = .tensor(TensorRef(tensor)) }
        let root = PickleDict()
        root["state_dict"] = .dict(stateDict)
        root["global_step"] = .int(123_456_789_012)
        root["negative"] = .int(-70000)
        root["lr"] = .float(1e-4)
        root["name"] = .string("nanowm — ünïcode")
        root["flags"] = .list(PickleList([.bool(true), .none, .tuple([.int(1), .int(2)])]))
        try TorchArchive.write(.dict(root), to: file)

        let inputs = Dictionary(uniqueKeysWithValues: tensors)
        let python = try PyTorchBaseline.shared.run("""
        ck = torch.load(\(pythonString(file)), weights_only=True)
        sd = ck['state_dict']
        assert list(sd.keys()) == \(tensors.map(\.0)), list(sd.keys())
        assert type(sd).__name__ == 'OrderedDict'
        for k, v in sd.items():
            assert v.dtype == I[k].dtype and v.shape == I[k].shape, (k, v.dtype, v.shape)
            assert torch.equal(v, I[k]), k
        assert ck['global_step'] == 123456789012 and ck['negative'] == -70000
        assert ck['lr'] == 1e-4 and ck['name'] == 'nanowm — ünïcode'
        assert ck['flags'] == [True, None, (1, 2)]
        O['ok'] = torch.tensor(1)
        """, inputs: inputs)
        XCTAssertEqual(try python["ok"]?.item(Int.self), 1)

        // And our reader reads our writer.
        for (name, ref) in try Checkpoint.open(file).stateDict() {
            try assertExactlyEqual(try ref.load(), inputs[name], name)
        }
    }

    /// A pickle that would run `os.system` in Python is read here as an inert record.
    func testMaliciousPickleRunsNothing() throws {
        let file = path("evil.pt")
        let marker = path("pwned")
        _ = try PyTorchBaseline.shared.run("""
        import os
        class Evil:
            def __reduce__(self): return (os.system, (\(pythonString("touch " + marker)),))
        torch.save({'w': torch.ones(2), 'payload': Evil()}, \(pythonString(file)))
        """)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "saving must not run the payload")
        let checkpoint = try Checkpoint.open(file)
        guard case .object(let payload)? = checkpoint.root["payload"] else { return XCTFail("payload should be inert") }
        XCTAssertTrue(["posix.system", "os.system"].contains(payload.qualifiedName), payload.qualifiedName)
        XCTAssertEqual(payload.arguments.first?.string, "touch " + marker)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "loading ran the payload")
    }

    // MARK: - Bad input

    private func assertRefusedCheckpoint(_ file: String, mentions fragment: String, line: UInt = #line) {
        let error = TestSupport.assertOneLineError({
            let checkpoint = try Checkpoint.open(file)
            for (_, ref) in try checkpoint.stateDict() { _ = try ref.load() }
        }, mentions: [file], line: line)
        if let error {
            XCTAssertTrue("\(error)".lowercased().contains(fragment), "error should mention '\(fragment)': \(error)", line: line)
        }
    }

    private func validArchiveBytes() throws -> [UInt8] {
        let file = path("valid.pt")
        try Checkpoint.save([("a", try Tensor.randn([4, 4])), ("b", try Tensor.arange(0, 10))], to: file)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    private func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let file = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func testTruncatedArchive() throws {
        let bytes = try validArchiveBytes()
        assertRefusedCheckpoint(try write(Array(bytes.prefix(bytes.count / 2)), "truncated.pt"), mentions: "zip")
        assertRefusedCheckpoint(try write([], "empty.pt"), mentions: "empty")
    }

    func testWrongMagic() throws {
        assertRefusedCheckpoint(try write(Array("this is not a checkpoint at all".utf8), "text.pt"), mentions: "unrecognised")
    }

    func testCorruptZipDirectory() throws {
        var bytes = try validArchiveBytes()
        // Point the end record's directory offset past the end of the file.
        let end = try XCTUnwrap((0...(bytes.count - 22)).reversed().first { bytes[$0..<($0 + 4)] == [0x50, 0x4b, 0x05, 0x06] })
        for i in 16..<20 { bytes[end + i] = 0xee }
        assertRefusedCheckpoint(try write(bytes, "corrupt.pt"), mentions: "zip")
    }

    func testUnsupportedOpcodeAndMissingRecord() throws {
        let opcode = path("opcode.pt"), missing = path("missing.pt")
        _ = try PyTorchBaseline.shared.run("""
        import zipfile
        with zipfile.ZipFile(\(pythonString(opcode)), 'w') as z:
            z.writestr('opcode/data.pkl', b'\\x80\\x02\\xff.')
        torch.save({'w': torch.ones(3)}, \(pythonString(path("full.pt"))))
        with zipfile.ZipFile(\(pythonString(path("full.pt")))) as src, zipfile.ZipFile(\(pythonString(missing)), 'w') as dst:
            for info in src.infolist():
                if not info.filename.endswith('data/0'):
                    dst.writestr(info, src.read(info))
        """)
        assertRefusedCheckpoint(opcode, mentions: "unsupported pickle opcode 0xff")
        assertRefusedCheckpoint(missing, mentions: "data/0")
    }

    func testLegacyFormat() throws {
        let file = path("legacy.pt")
        _ = try PyTorchBaseline.shared.run("torch.save({'w': torch.ones(3)}, \(pythonString(file)), _use_new_zipfile_serialization=False)")
        assertRefusedCheckpoint(file, mentions: "legacy")
    }

    /// Repeated strides let a 1.6 KB file declare a 6 GB tensor (uint8 [20, 8000, 8000, 3]
    /// with strides (0, 0, 0, 1)); it is refused when read, in one line, before anything is
    /// allocated. A broadcast that stays small is still read as PyTorch saved it.
    func testHugeViewsOfTinyStoragesAreRefused() throws {
        let huge = path("huge.pth"), small = path("small.pth")
        let expected = try PyTorchBaseline.shared.run("""
        base = torch.arange(3, dtype=torch.uint8)
        torch.save({'frames': base.as_strided((20, 8000, 8000, 3), (0, 0, 0, 1))}, \(pythonString(huge)))
        torch.save({'frames': base.as_strided((4, 2, 3), (0, 0, 1))}, \(pythonString(small)))
        O['small'] = base.as_strided((4, 2, 3), (0, 0, 1)).contiguous()
        """)
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: huge)[.size] as? Int ?? .max, 4096)
        assertOneLineError({ try Checkpoint.open(huge).stateDict().map { try $0.1.load() } },
                           mentions: ["huge.pth", "[20, 8000, 8000, 3]", "refused"])
        let read = try XCTUnwrap(try Checkpoint.open(small).stateDict().first?.1.load())
        try assertExactlyEqual(read, expected["small"], "a small broadcast view")
    }

    /// A `.npy` header declaring 2⁶² elements over 16 bytes: one line, no overflow trap (the
    /// byte count is checked before any use, the error message included).
    func testNpyHeaderSizesAreCheckedForOverflow() throws {
        let file = path("huge.npy")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(1 << 62),), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
            + Array(header.utf8) + [UInt8](repeating: 0, count: 16)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        assertOneLineError({ try NumpyArchive.readArray(file) }, mentions: ["huge.npy", "\(1 << 62)", "the entry has 16"])
    }

    /// A FIFO given where a file is read would block the reader for ever (opening a FIFO waits
    /// for a writer); every reader refuses it at once, naming it.
    func testAFIFOIsRefusedNotWaitedOn() throws {
        let fifo = path("episode.pth")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let started = Date()
        assertOneLineError({ try Checkpoint.open(fifo) }, mentions: [fifo, "FIFO"])
        assertOneLineError({ try NumpyArchive.readArray(fifo) }, mentions: [fifo, "FIFO"])
        assertOneLineError({ try RegularFile.data(fifo) }, mentions: [fifo, "FIFO"])
        assertOneLineError({ try RegularFile.check(scratch.url.path) }, mentions: ["folder"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testMissingFile() {
        assertRefusedCheckpoint(path("nowhere.ckpt"), mentions: "cannot open")
    }

    /// Pickles nesting a million levels deep (tuples on the stack, lists through the memo) are
    /// refused or loaded, and freed, without overflowing the stack.
    func testDeeplyNestedPicklesDoNotCrash() throws {
        let tuples = path("deep_tuples.pt"), lists = path("deep_lists.pt")
        _ = try PyTorchBaseline.shared.run("""
        import zipfile
        n = 1000000
        deep_tuples = b'\\x80\\x02N' + b'\\x85' * n + b'.'
        # L0 stays on the stack and in memo 0; each step makes a list, appends it to the list in
        # memo 0 and memoizes it as 0, leaving the stack as it was: one chain from L0 down.
        step = b']q\\x01' + b'0' + b'h\\x00' + b'h\\x01' + b'a' + b'0' + b'h\\x01' + b'q\\x00' + b'0'
        deep_lists = b'\\x80\\x02]q\\x00' + step * n + b'.'
        for name, payload in [(\(pythonString(tuples)), deep_tuples), (\(pythonString(lists)), deep_lists)]:
            with zipfile.ZipFile(name, 'w') as z:
                z.writestr('archive/data.pkl', payload)
        """)
        XCTAssertThrowsError(try TorchArchive.read(tuples)) { error in
            XCTAssertTrue("\(error)".contains("nest"), "\(error)")
        }
        // The list chain is legal pickle: it loads (no tensors in it), and freeing it must not recurse.
        XCTAssertNoThrow(try { _ = try TorchArchive.read(lists) }())
    }

    /// A pickle that appends 10⁸ items one at a time (`]` then `N a` × 10⁸: the stack never
    /// holds more than two) is refused once its containers hold 10⁷ elements, instead of
    /// growing a list to gigabytes.
    func testAppendingWithoutEndIsRefusedAtTheContainerBound() throws {
        let appends = 100_000_000
        var body: [UInt8] = [0x4e, 0x61]  // NONE, APPEND
        while body.count < 2 * appends { body += body }  // doubling: memcpy speed, even unoptimised
        let pickle = [0x80, 0x02, 0x5d] + body.prefix(2 * appends) + [0x2e]  // PROTO 2, EMPTY_LIST … STOP
        XCTAssertThrowsError(try Unpickler.load(pickle)) { error in
            XCTAssertTrue("\(error)".contains("containers grow beyond 10000000 elements"), "\(error)")
        }
    }

    /// Moving the stack's contents into lists again and again (MARK, 10⁶ × NONE, LIST, POP,
    /// eleven times) never overflows the stack but is refused by the same bound, with one
    /// line naming the file and the fix.
    func testRefillingTheStackIntoContainersIsRefused() throws {
        let batch: [UInt8] = [0x28] + [UInt8](repeating: 0x4e, count: 1_000_000) + [0x6c, 0x30]
        let pickle: [UInt8] = [0x80, 0x02] + (0..<11).flatMap { _ in batch } + [0x4e, 0x2e]
        let file = try writeArchive(pickle: pickle, "refill.pt")
        assertRefusedCheckpoint(file, mentions: "re-save it with torch.save")
    }

    /// A zip whose entries are deflated (here by Python's zipfile) is refused by name, not
    /// reported as truncated: the 4 MB of zeros compress to far less than their plain size.
    func testCompressedEntriesAreRefusedByName() throws {
        let file = path("deflated.pt")
        _ = try PyTorchBaseline.shared.run("""
        import io, zipfile
        buffer = io.BytesIO()
        torch.save({'w': torch.zeros(1000000)}, buffer)
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(\(pythonString(file)), 'w', zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info))
        """)
        assertRefusedCheckpoint(file, mentions: "is compressed (deflate)")
        XCTAssertThrowsError(try Checkpoint.open(file)) { error in
            XCTAssertFalse("\(error)".contains("truncated"), "\(error)")
            XCTAssertTrue("\(error)".contains("re-save the checkpoint with torch.save"), "\(error)")
        }
    }

    private func writeArchive(pickle: [UInt8], _ name: String) throws -> String {
        let file = path(name)
        try AtomicFile.stream(to: file) { output in
            let zip = ZipWriter(output)
            try zip.add("archive/data.pkl", pickle)
            try zip.finish()
        }
        return file
    }

    /// 10⁴ random corruptions of a valid checkpoint: each either loads or throws; none crashes.
    func testFuzzedArchivesNeverCrash() throws {
        let original = try validArchiveBytes()
        var generator = SeededRandom(seed: 20261125)
        var loaded = 0, refused = 0
        let file = path("fuzz.pt")
        for _ in 0..<10_000 {
            var bytes = original
            switch generator.next() % 4 {
            case 0: // flip a few bytes
                for _ in 0..<(1 + Int(generator.next() % 4)) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            case 1: // truncate
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            case 2: // corrupt a byte inside the pickle, where most structure lives
                let start = 64 + Int(generator.next() % 256)
                if start < bytes.count { bytes[start] = UInt8(truncatingIfNeeded: generator.next()) }
            default: // overwrite a 4-byte field with an extreme value
                let at = Int(generator.next() % UInt64(bytes.count - 4))
                let value: [UInt8] = generator.next() % 2 == 0 ? [0xff, 0xff, 0xff, 0x7f] : [0, 0, 0, 0x80]
                bytes.replaceSubrange(at..<(at + 4), with: value)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            do {
                let checkpoint = try Checkpoint.open(file)
                for (_, ref) in try checkpoint.stateDict() { _ = try ref.load() }
                loaded += 1
            } catch {
                refused += 1
            }
        }
        XCTAssertEqual(loaded + refused, 10_000)
        XCTAssertGreaterThan(refused, 1000, "most corruptions should be detected")
    }
}
