import ArgumentParser
import Foundation
import NanoWMCore
import NanoWMWeb

/// `nanowm view`: a point cloud in the browser.
struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Show a point cloud (.ply, or the _viewer.npz of nanowm pointcloud) in the browser.",
        discussion: """
        Serves a page on 127.0.0.1 that draws the cloud with WebGL (no internet needed): drag to \
        turn it, the wheel to zoom, a timeline for a viewer file's frames (each frame's points \
        unprojected again with its stored confidence percentile, as the reference's viewer does) \
        with every camera drawn as a frustum, and the point size. Ctrl-C stops it.

        Examples:
          nanowm view rollout.ply
          nanowm view rollout_viewer.npz --port 8766
        """)

    @Argument(help: "A .ply point cloud or a _viewer.npz file.") var file: String
    @Option(help: "Port to serve on (0: any free one).") var port = 8766
    @Option(help: "Address to listen on; 0.0.0.0 lets other machines connect.") var host = "127.0.0.1"

    func run() throws {
        try Self.serve(URL(fileURLWithPath: file), host: host, port: port)
    }

    /// Serves `file` until the server stops; the address is printed once it listens.
    static func serve(_ file: URL, host: String, port: Int) throws {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ValidationError("no file at \(file.path); give a .ply cloud or the _viewer.npz that nanowm pointcloud writes")
        }
        let scene = try CloudScene(contentsOf: file)
        let server = try ViewerServer(scene: scene, host: host, port: port)
        let summary = "\(scene.points.count / 3) points, \(scene.frameCounts.count) frame(s)"
        try serveUntilStopped({ ready in try await server.run(ready: ready) }, announce: { "view: \($0)  (\(summary); Ctrl-C stops)" })
    }
}
