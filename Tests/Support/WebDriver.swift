import Foundation
import SwiftTorch

/// A headless Chromium driven through WebDriver (Debian's `chromium` and `chromium-driver`,
/// which scripts/setup installs): chromedriver on a free loopback port, one browser session,
/// and the few commands the page tests use. `close()` ends both.
public final class HeadlessChromium {
    public static let browser = "/usr/bin/chromium", driver = "/usr/bin/chromedriver"

    private let process = Process()
    private let port: Int
    private var session = ""

    public init() throws {
        for path in [Self.browser, Self.driver] where !FileManager.default.isExecutableFile(atPath: path) {
            throw WebDriverError("no \(path): run scripts/setup (it installs Debian's chromium and chromium-driver)")
        }
        let port = try LocalLauncher.freePort()
        self.port = port
        process.executableURL = URL(fileURLWithPath: Self.driver)
        process.arguments = ["--port=\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while true {
            do {
                _ = try request("GET", "status")
                break
            } catch {
                guard Date() < deadline, process.isRunning else { throw WebDriverError("chromedriver did not start on port \(port): \(error)") }
                usleep(50_000)
            }
        }
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["binary": Self.browser,
                                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                            "--window-size=1100,900"]],
        ]]]
        let created = try request("POST", "session", capabilities)
        guard let id = (created as? [String: Any])?["sessionId"] as? String else { throw WebDriverError("no session in \(created)") }
        session = id
    }

    deinit { close() }

    public func close() {
        if !session.isEmpty { _ = try? request("DELETE", "session/\(session)") }
        session = ""
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }

    public func open(_ url: String) throws { _ = try request("POST", "session/\(session)/url", ["url": url]) }

    /// Runs `script` (a function body) in the page and returns its value.
    @discardableResult
    public func evaluate(_ script: String, _ arguments: [Any] = []) throws -> Any {
        try request("POST", "session/\(session)/execute/sync", ["script": script, "args": arguments])
    }

    /// Evaluates `condition` until it is true, or throws naming `what` after `seconds`.
    public func wait(for what: String, seconds: Double = 60, _ condition: String) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while (try evaluate("return Boolean(\(condition));")) as? Bool != true {
            guard Date() < deadline else { throw WebDriverError("timed out after \(seconds) s waiting for \(what) (\(condition))") }
            usleep(20_000)
        }
    }

    /// Keys pressed (`down`) or released, by WebDriver key value (e.g. "\u{E014}", ArrowRight).
    public func keys(down: [String] = [], up: [String] = []) throws {
        let actions = down.map { ["type": "keyDown", "value": $0] } + up.map { ["type": "keyUp", "value": $0] }
        _ = try request("POST", "session/\(session)/actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    public func click(id: String) throws {
        let found = try request("POST", "session/\(session)/element", ["using": "css selector", "value": "#\(id)"])
        guard let element = (found as? [String: Any])?.values.first as? String else { throw WebDriverError("no #\(id) on the page") }
        _ = try request("POST", "session/\(session)/element/\(element)/click", [:])
    }

    /// Opens a new tab and switches to it; returns its handle.
    public func newTab() throws -> String {
        let created = try request("POST", "session/\(session)/window/new", ["type": "tab"])
        guard let handle = (created as? [String: Any])?["handle"] as? String else { throw WebDriverError("no tab in \(created)") }
        try switchTo(handle)
        return handle
    }

    public func currentTab() throws -> String {
        guard let handle = try request("GET", "session/\(session)/window") as? String else { throw WebDriverError("no current tab") }
        return handle
    }

    public func switchTo(_ handle: String) throws { _ = try request("POST", "session/\(session)/window", ["handle": handle]) }

    public func closeTab() throws { _ = try request("DELETE", "session/\(session)/window") }

    /// The viewport as PNG bytes.
    public func screenshot() throws -> Data {
        guard let text = try request("GET", "session/\(session)/screenshot") as? String, let data = Data(base64Encoded: text) else {
            throw WebDriverError("no screenshot")
        }
        return data
    }

    private func request(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> Any {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        let reply = try LoopbackHTTP.exchange(port: port, method: method, path: "/" + path, body: payload)
        let object = try JSONSerialization.jsonObject(with: reply, options: [.fragmentsAllowed])
        let value = (object as? [String: Any])?["value"] ?? NSNull()
        if let failure = value as? [String: Any], let error = failure["error"] as? String {
            throw WebDriverError("WebDriver \(method) \(path): \(error): \(failure["message"] ?? "")")
        }
        return value
    }
}

/// HTTP/1.1 to a server on 127.0.0.1, one request per connection (`Connection: close`), for
/// chromedriver: swift-corelibs-foundation's URLSession fails on its replies ("Failed writing
/// header") on Linux.
enum LoopbackHTTP {
    static func exchange(port: Int, method: String, path: String, body: Data) throws -> Data {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WebDriverError("no socket") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw WebDriverError("cannot connect to 127.0.0.1:\(port)") }
        var request = Data("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n".utf8)
        request += Data("Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        try request.withUnsafeBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let n = send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw WebDriverError("cannot send to 127.0.0.1:\(port)") }
                sent += n
            }
        }
        // chromedriver keeps the connection open after its reply: read what Content-Length says.
        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        func complete() -> Data? {
            guard let split = reply.range(of: Data("\r\n\r\n".utf8)) else { return nil }
            let headers = String(decoding: reply[..<split.lowerBound], as: UTF8.self).lowercased()
            let content = Data(reply[split.upperBound...])
            if let line = headers.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
               let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                return content.count >= length ? content.prefix(length) : nil
            }
            if headers.contains("transfer-encoding:") && headers.contains("chunked") {
                return content.range(of: Data("\r\n0\r\n".utf8)) != nil || content.starts(with: Data("0\r\n".utf8)) ? try? dechunked(content) : nil
            }
            return nil
        }
        while true {
            if let body = complete() { return body }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw WebDriverError("no complete reply from 127.0.0.1:\(port)") }
            reply.append(contentsOf: buffer[0..<n])
        }
    }

    private static func dechunked(_ data: Data) throws -> Data {
        var out = Data(), at = data.startIndex
        while let line = data[at...].range(of: Data("\r\n".utf8)) {
            guard let size = Int(String(decoding: data[at..<line.lowerBound], as: UTF8.self).split(separator: ";")[0], radix: 16) else {
                throw WebDriverError("a malformed chunked reply")
            }
            if size == 0 { break }
            out += data[line.upperBound..<(line.upperBound + size)]
            at = line.upperBound + size + 2
        }
        return out
    }
}

public struct WebDriverError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
