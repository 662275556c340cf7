import Foundation
import SwiftTorch
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMCore

/// The built-in environment: deterministic from its seed, and its wall stops the agent except
/// at the door.
final class WallEnvironmentTests: XCTestCase {
    func testWallEnvironmentIsDeterministicAndRespectsTheWall() throws {
        let a = try WallDataGenerator.episode(3, length: 12, resolution: 16, seed: 7)
        let b = try WallDataGenerator.episode(3, length: 12, resolution: 16, seed: 7)
        try assertExactlyEqual(a.frames, b.frames, "frames")
        try assertExactlyEqual(a.actions, b.actions, "actions")
        let other = try WallDataGenerator.episode(4, length: 12, resolution: 16, seed: 7)
        XCTAssertNotEqual(try a.frames.bytes(), try other.frames.bytes())
        // Pushing right from the left half away from the door stops at the wall.
        var environment = WallEnvironment(start: (x: 0.2, y: 0.1))
        for _ in 0..<20 { environment.step((1, 0)) }
        let layout = environment.layout
        XCTAssertEqual(environment.position.x, layout.wallX - layout.wallHalfWidth - layout.agentRadius, accuracy: 1e-12)
        // Through the door it passes.
        var through = WallEnvironment(start: (x: 0.2, y: layout.doorY))
        for _ in 0..<20 { through.step((1, 0)) }
        XCTAssertGreaterThan(through.position.x, layout.wallX)
    }
}
