import Foundation
import Hummingbird
import Logging
import NanoWMCore

/// `nanowm view`'s web server: the viewer page at `/`, the scene's description at `/scene.json`
/// and its points at `/points.bin`, on `host` (loopback by default) until SIGINT or SIGTERM.
public struct ViewerServer: Sendable {
    private let description: ByteBuffer
    private let points: ByteBuffer
    public let host: String
    public let port: Int

    public init(scene: CloudScene, host: String = "127.0.0.1", port: Int) throws {
        struct Description: Encodable {
            var source: String
            var frames: [Int]
            var cameras: [CloudScene.Camera]
        }
        let json = try JSONEncoder().encode(Description(source: scene.source, frames: scene.frameCounts, cameras: scene.cameras))
        description = ByteBuffer(bytes: json)
        points = ByteBuffer(bytes: scene.binary)
        (self.host, self.port) = (host, port)
    }

    /// Serves; `ready` receives the page's address once the server listens.
    public func run(ready: @escaping @Sendable (String) -> Void) async throws {
        let router = Router()
        let (description, points) = (self.description, self.points)
        router.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: ViewerPage.html)))
        }
        router.get("/scene.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: description))
        }
        router.get("/points.bin") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "no-store"], body: .init(byteBuffer: points))
        }
        var logger = Logger(label: "nanowm-view")
        logger.logLevel = .warning
        let (host, port) = (self.host, self.port)
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "nanowm-view"),
                              onServerRunning: { channel in ready("http://\(host):\(channel.localAddress?.port ?? port)/") },
                              logger: logger)
        try await app.runService()
    }
}
