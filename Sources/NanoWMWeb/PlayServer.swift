import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NanoWM

/// `nanowm play`'s web server: the page at `/`, and at `/session` one WebSocket per browser tab,
/// each its own `PlaySession` (tab n starts from seed + n). It listens on `host` (loopback by
/// default) and serves until SIGINT or SIGTERM.
public struct PlayServer: Sendable {
    public let world: UncheckedWorld
    public let host: String
    public let port: Int
    public let seed: UInt64

    /// The world crosses into the server's tasks as is: its model work is serialised by its
    /// own queue, and each session is driven by one connection.
    public struct UncheckedWorld: @unchecked Sendable {
        public let world: PlayWorld
        public init(_ world: PlayWorld) { self.world = world }
    }

    public init(world: PlayWorld, host: String = "127.0.0.1", port: Int, seed: UInt64) {
        (self.world, self.host, self.port, self.seed) = (UncheckedWorld(world), host, port, seed)
    }

    /// Serves; `ready` receives the page's address once the server listens (with the port the
    /// system chose when `port` is 0).
    public func run(ready: @escaping @Sendable (String) -> Void) async throws {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: PlayPage.html)))
        }
        let counter = SessionCounter()
        let (world, seed) = (self.world, self.seed)
        router.ws("/session") { _, _ in .upgrade() } onUpgrade: { inbound, outbound, _ in
            let number = await counter.next()
            let connection = PlayConnection(world: world.world, seed: seed &+ UInt64(number), number: number)
            await connection.serve(inbound: inbound, outbound: outbound)
        }
        var logger = Logger(label: "nanowm-play")
        logger.logLevel = .warning
        let (host, port) = (self.host, self.port)
        let app = Application(router: router, server: .http1WebSocketUpgrade(webSocketRouter: router),
                              configuration: .init(address: .hostname(host, port: port), serverName: "nanowm-play"),
                              onServerRunning: { channel in ready("http://\(host):\(channel.localAddress?.port ?? port)/") },
                              logger: logger)
        try await app.runService()
    }
}

/// Numbers the sessions in the order tabs connect.
actor SessionCounter {
    private var count = 0
    func next() -> Int {
        defer { count += 1 }
        return count
    }
}
