import Foundation

/// A `nanowm` command that serves a page (`play`, `view`): started with its arguments, its
/// address taken from the first line it prints, interrupted (Ctrl-C) by `stop`.
public final class ServingProcess {
    private let process = Process()
    private let output = Pipe()
    public let address: String

    public init(_ arguments: [String]) throws {
        process.executableURL = NanoWMExecutable.url
        process.arguments = arguments
        process.currentDirectoryURL = PyTorchBaseline.repositoryRoot
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(120)
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty, Date() < deadline else { throw WebDriverError("nanowm \(arguments.first ?? "") printed no address: \(text)") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let match = text.range(of: #"http://127\.0\.0\.1:[0-9]+/"#, options: .regularExpression) else {
            throw WebDriverError("nanowm \(arguments.first ?? "") printed no address: \(text)")
        }
        address = String(text[match])
    }

    public var isRunning: Bool { process.isRunning }

    public func stop() {
        if process.isRunning { process.interrupt() }
        process.waitUntilExit()
    }
}
