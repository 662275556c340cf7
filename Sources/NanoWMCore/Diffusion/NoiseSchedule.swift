import Foundation

/// β schedules of the forward process, computed in float64 exactly as upstream (numpy) does,
/// so tables agree to the last bit before they are cast to float32.
public enum NoiseSchedule: String, CaseIterable, Sendable {
    case linear
    case squaredcosCapV2 = "squaredcos_cap_v2"

    public func betas(steps: Int) -> [Double] {
        switch self {
        case .linear:
            // Scaled so that any step count spans the same noise range as 1000 steps.
            let scale = 1000 / Double(steps)
            return numpyLinspace(scale * 0.0001, scale * 0.02, count: steps)
        case .squaredcosCapV2:
            func alphaBar(_ s: Double) -> Double {
                let c = cos((s + 0.008) / 1.008 * Double.pi / 2)
                return c * c
            }
            return (0..<steps).map { i in
                let t1 = Double(i) / Double(steps), t2 = Double(i + 1) / Double(steps)
                return Swift.min(1 - alphaBar(t2) / alphaBar(t1), 0.999)
            }
        }
    }

    /// Rescales betas so the final ᾱ is exactly 0 (Lin et al. 2023): √ᾱ is shifted and
    /// stretched to keep its first value and end at zero.
    public static func enforcingZeroTerminalSNR(_ betas: [Double]) -> [Double] {
        var product = 1.0
        var root = betas.map { beta -> Double in
            product *= 1 - beta
            return product.squareRoot()
        }
        let first = root[0], last = root[root.count - 1]
        let stretch = first / (first - last)
        for i in root.indices { root[i] = (root[i] - last) * stretch }
        let alphaBar = root.map { $0 * $0 }
        var alphas = [alphaBar[0]]
        for i in 1..<alphaBar.count { alphas.append(alphaBar[i] / alphaBar[i - 1]) }
        return alphas.map { 1 - $0 }
    }
}

/// `numpy.linspace`: start + i·step with the endpoint set exactly, which is not always what
/// accumulating or scaling differently would give in the last bit.
func numpyLinspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
    guard count > 1 else { return count == 1 ? [start] : [] }
    let step = (stop - start) / Double(count - 1)
    var values = (0..<count).map { Double($0) * step + start }
    values[count - 1] = stop
    return values
}

/// The timesteps a respaced process keeps: `sectionCounts` steps taken evenly from equal
/// sections of 0..<steps (upstream's `space_timesteps`, including Python's round-half-even).
public func spacedTimesteps(_ steps: Int, sectionCounts: [Int]) throws -> [Int] {
    let sizePer = steps / sectionCounts.count, extra = steps % sectionCounts.count
    var start = 0
    var taken = Set<Int>()
    for (i, count) in sectionCounts.enumerated() {
        let size = sizePer + (i < extra ? 1 : 0)
        guard size >= count else {
            throw DiffusionError("cannot take \(count) sampling steps from a section of \(size) diffusion steps")
        }
        let stride = count <= 1 ? 1 : Double(size - 1) / Double(count - 1)
        var position = 0.0
        for _ in 0..<count {
            taken.insert(start + Int(position.rounded(.toNearestOrEven)))
            position += stride
        }
        start += size
    }
    return taken.sorted()
}

public struct DiffusionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
