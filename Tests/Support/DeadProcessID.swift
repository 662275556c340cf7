import Foundation

/// The ID of a process that has exited and been reaped, for tests of code that must tell
/// a dead writer from a live one. (The kernel could hand the ID out again, but not within
/// the moment a test uses it on a machine that is not forking thousands of processes.)
public func deadProcessID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
}
