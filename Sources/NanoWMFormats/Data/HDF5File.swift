import CHDF5Shim
import Foundation
import SwiftTorch

/// An HDF5 file opened read-only through the HDF5 C library, for reading whole uint8 or
/// float32 datasets by name (CSGO's `frame_<i>_x` and `frame_<i>_y`). Errors are one line that
/// names the file and the dataset. libhdf5 runs in a reader process (see chdf5.h), so a file
/// that crashes it is an error here too.
public final class HDF5File {
    public enum ElementType { case uint8, float32 }

    public let url: URL
    private let handle: chdf5_file_t

    public init(url: URL) throws {
        self.url = url
        do { try RegularFile.check(url.path) } catch {
            throw DataError("\(error) (an HDF5 file); check the dataset folder (csgo_data_dir)")
        }
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = chdf5_open(url.path, &error, error.count) else {
            throw DataError("\(url.path): \(String(cString: error)); copy the file again")
        }
        self.handle = handle
    }

    deinit { chdf5_close(handle) }

    /// The shape of dataset `name`, or nil when the file has none of that name.
    public func shape(_ name: String) throws -> (shape: [Int], type: ElementType?)? {
        var rank: Int32 = 0, type: Int32 = 0
        var dims = [Int64](repeating: 0, count: Int(CHDF5_MAX_RANK))
        var error = [CChar](repeating: 0, count: 512)
        let status = chdf5_dataset_info(handle, name, &rank, &dims, &type, &error, error.count)
        if status == 2 { return nil }
        guard status == 0 else { throw DataError("\(url.path): dataset '\(name)': \(String(cString: error)); copy the file again") }
        let element: ElementType? = type == Int32(CHDF5_UINT8) ? .uint8 : type == Int32(CHDF5_FLOAT32) ? .float32 : nil
        return (dims.prefix(Int(rank)).map { Int($0) }, element)
    }

    /// All of dataset `name` as a tensor of its own shape; it must hold `type` elements and,
    /// when given, have shape `expected`.
    public func read(_ name: String, as type: ElementType, expected: [Int]? = nil) throws -> Tensor {
        guard let (shape, stored) = try shape(name) else {
            throw DataError("\(url.path): no dataset '\(name)' (truncated or not a CSGO recording); copy the file again")
        }
        guard stored == type else { throw DataError("\(url.path): dataset '\(name)' is not \(type) (a different format than expected)") }
        if let expected, shape != expected {
            throw DataError("\(url.path): dataset '\(name)' has shape \(shape), expected \(expected)")
        }
        let dtype: DType = type == .uint8 ? .uint8 : .float32
        // A corrupt header can claim any shape: refuse more than 256 MiB (a CSGO frame is 126 KB).
        let count = shape.reduce(Int?(1)) { product, n in
            guard let product, n >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: n)
            return overflow || next > (1 << 28) / dtype.byteSize ? nil : next
        }
        guard let count else { throw DataError("\(url.path): dataset '\(name)' has an implausible shape \(shape) (corrupt file)") }
        var error = [CChar](repeating: 0, count: 512)
        let code = Int32(type == .uint8 ? CHDF5_UINT8 : CHDF5_FLOAT32)
        var bytes = [UInt8](repeating: 0, count: count * dtype.byteSize)
        let status = bytes.withUnsafeMutableBytes { chdf5_read(handle, name, code, $0.baseAddress, $0.count, &error, error.count) }
        guard status == 0 else { throw DataError("\(url.path): dataset '\(name)': \(String(cString: error)); copy the file again") }
        return try bytes.withUnsafeBytes { try Tensor(bytes: $0, dtype: dtype, shape: shape) }
    }

    /// The HDF5 reader's worker that answered the last request: the process running libhdf5.
    public static var readerProcess: pid_t? {
        let pid = chdf5_reader_pid()
        return pid > 0 ? pid : nil
    }

    /// That worker's peak resident memory (VmHWM), while it runs.
    public static var readerPeakMemoryBytes: Int? {
        guard let pid = readerProcess,
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
        return kilobytes << 10
    }
}
