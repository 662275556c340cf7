import Foundation
import SwiftTorch
import TestSupport
import XCTest

/// A kill during an atomic write leaves its `.NAME.tmp-PID` temporary behind; the cleanup
/// removes those of dead processes and nothing else.
final class AtomicFileTests: XCTestCase {
    private var scratch: TemporaryDirectory!

    override func setUpWithError() throws { scratch = try TemporaryDirectory("atomic-file-tests") }
    override func tearDown() { scratch.remove() }

    private func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: scratch.path(name)) }

    func testTemporariesOfDeadProcessesAreRemovedAndLiveOnesKept() throws {
        let dead = try deadProcessID()
        let stale = ".step=3.ckpt.tmp-\(dead)", live = ".step=6.ckpt.tmp-\(getpid())"
        let unrelated = ["step=3.ckpt", ".tmp-\(dead)", ".notes.tmp-abc", ".notes.tmp-", "x.ckpt.tmp-\(dead)"]
        for name in [stale, live] + unrelated {
            try Data("partial".utf8).write(to: URL(fileURLWithPath: scratch.path(name)))
        }
        XCTAssertEqual(AtomicFile.removeStaleTemporaries(in: scratch.url.path), [scratch.path(stale)])
        XCTAssertFalse(exists(stale), "the dead writer's temporary should be gone")
        XCTAssertTrue(exists(live), "a live writer's temporary may be a write in progress")
        for name in unrelated { XCTAssertTrue(exists(name), name) }
        XCTAssertEqual(AtomicFile.removeStaleTemporaries(in: scratch.url.path), [], "a second pass finds nothing")
    }

    func testMissingFolderHasNothingToRemove() {
        XCTAssertEqual(AtomicFile.removeStaleTemporaries(in: scratch.path("nowhere")), [])
    }

    /// A folder that cannot be made is one line naming it and why, not Foundation's
    /// NSCocoaErrorDomain dump; writing a file under it says the same.
    func testAFolderThatCannotBeMadeIsOneLine() throws {
        let file = scratch.url.appendingPathComponent("plain.txt")
        try Data("x".utf8).write(to: file)
        let folder = file.appendingPathComponent("run/checkpoints")
        assertOneLineError({ try Folder.create(folder) }, mentions: [folder.path, "\(file.path) is a file, not a folder"])
        assertOneLineError({ try AtomicFile.write(to: folder.appendingPathComponent("m.json").path) { Data() } },
                           mentions: ["\(file.path) is a file, not a folder"])
        try Folder.create(scratch.url.appendingPathComponent("a/b"))
        try Folder.create(scratch.url.appendingPathComponent("a/b"))  // existing: fine
    }
}
