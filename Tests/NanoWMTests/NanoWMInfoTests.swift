import Foundation
import NanoWM
import SwiftTorch
import TestSupport
import XCTest
import NanoWMCore

/// What the project says about itself agrees with what it ships. The names are module-qualified
/// on purpose: they only compile while no type shadows the module `NanoWMCore`.
final class NanoWMInfoTests: XCTestCase {
    /// The PyTorch release `nanowm doctor` names as the reference is the one setup installs.
    func testReferenceTorchVersionIsTheOneSetupPins() throws {
        let setup = try String(contentsOf: PyTorchBaseline.repositoryRoot.appendingPathComponent("scripts/setup"), encoding: .utf8)
        let pinned = try XCTUnwrap(setup.split(separator: "\n").first { $0.hasPrefix("torch_version=") })
        XCTAssertEqual(pinned, "torch_version=\"\(NanoWMCore.NanoWMInfo.referenceTorchVersion)\"")
    }

    /// `nanowm --version` reports the library's version.
    func testBinaryReportsTheLibraryVersion() throws {
        let result = try NanoWMExecutable.run(["--version"])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), NanoWMCore.NanoWMInfo.version)
    }

    /// The model type is reachable through its module's name.
    func testModelTypeResolvesThroughTheModuleName() throws {
        let model = try NanoWMCore.NanoWMModel(NanoWMCore.NanoWMConfig(variant: "NanoWM-S/2", numFrames: 4, useAction: true, actionDim: 10, causal: true))
        XCTAssertEqual(model.parameterCount, 39_782_800, "the reference's count (Tests/Fixtures/nanowm/param_counts.json)")
    }
}
