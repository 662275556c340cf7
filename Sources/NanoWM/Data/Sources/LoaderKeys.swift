import Foundation

/// Upstream's data-source factories read `dataset.loader` keys with `.get`: a key that is
/// absent means the same as null. These read such a key typed (a wrong type is still an
/// error), nil when absent or null.
extension ConfigNode {
    func loaderString(_ key: String) throws -> String? { contains(key) ? try optionalString(key) : nil }
    func loaderInt(_ key: String) throws -> Int? { contains(key) ? try optionalInt(key) : nil }
    func loaderDouble(_ key: String) throws -> Double? { contains(key) ? try optionalDouble(key) : nil }
    func loaderBool(_ key: String) throws -> Bool? { contains(key) ? try optionalBool(key) : nil }
}
