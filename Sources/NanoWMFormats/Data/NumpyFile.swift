import Foundation
import SwiftTorch

/// Reads a NumPy `.npy` file of integers, such as CSGO's fixed validation start indices
/// (`int64 [500]`), through SwiftTorch's `.npy` reader.
public enum NumpyFile {
    public static func integers(_ url: URL) throws -> (shape: [Int], values: [Int64]) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataError("\(url.path): no such .npy file; check the path in the dataset config")
        }
        let array: Tensor
        do {
            array = try NumpyArchive.readArray(url.path)
        } catch let error as CheckpointError {
            throw DataError("\(url.path): not a valid .npy file (\(error.message)); write it with numpy.save")
        }
        guard !array.dtype.isFloatingPoint, array.dtype != .bool else {
            throw DataError("\(url.path): not a valid .npy file (dtype \(array.dtype) is not an integer type); write it with numpy.save")
        }
        return (array.shape, try array.to(.int64).flatten().toArray(Int64.self))
    }
}
