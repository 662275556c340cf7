import Foundation

/// NumPy's legacy generator (`numpy.random.RandomState`, and the global `np.random.seed` /
/// `np.random.shuffle` state): MT19937 seeded from a 32-bit integer, with the legacy bounded
/// draws (masked rejection on 32-bit outputs). Data splits and clip subsets that upstream draws
/// with it are reproduced bit for bit, so a split or subset made here equals upstream's.
public struct NumpyRandomState {
    private var generator: MersenneTwister
    /// The legacy polar method makes normals in pairs and keeps the second for the next call.
    private var cachedGauss: Double?

    /// `RandomState(seed)` for a seed in 0..<2³² (NumPy refuses others, so does this).
    public init(seed: Int) throws {
        guard seed >= 0, seed <= Int(UInt32.max) else {
            throw PythonCompatibleError("a NumPy RandomState seed must lie in 0...\(UInt32.max), got \(seed)")
        }
        self.init(seed32: UInt32(seed))
    }

    /// `RandomState(seed)` for a seed already known to fit in 32 bits.
    public init(seed32: UInt32) {
        generator = MersenneTwister(seed: seed32)
    }

    /// One tempered 32-bit output.
    public mutating func nextUInt32() -> UInt32 { generator.nextUInt32() }

    /// A uniform integer in 0...`maximum` by NumPy's masked rejection: draws are masked to the
    /// smallest all-ones mask covering `maximum` and redrawn while above it.
    public mutating func interval(_ maximum: UInt32) -> UInt32 {
        guard maximum > 0 else { return 0 }
        var mask = maximum
        for shift in [1, 2, 4, 8, 16] { mask |= mask >> UInt32(shift) }
        while true {
            let value = nextUInt32() & mask
            if value <= maximum { return value }
        }
    }

    /// `randint(low, high)`: uniform on low..<high (ranges below 2³²).
    public mutating func randint(_ low: Int, _ high: Int) throws -> Int {
        guard high > low, high - low - 1 <= Int(UInt32.max) else {
            throw PythonCompatibleError("randint needs low < high within 2³² (got \(low), \(high))")
        }
        return low + Int(interval(UInt32(high - low - 1)))
    }

    /// `shuffle(x)` of a one-dimensional array: Fisher–Yates from the end.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, through: 1, by: -1) {
            let j = Int(interval(UInt32(truncatingIfNeeded: i)))
            items.swapAt(i, j)
        }
    }

    /// `permutation(n)`: a shuffled `arange(n)`.
    public mutating func permutation(_ n: Int) -> [Int] {
        var items = Array(0..<n)
        shuffle(&items)
        return items
    }

    /// `choice(n, size, replace=False)`: the first `size` entries of `permutation(n)`.
    public mutating func choiceWithoutReplacement(_ n: Int, size: Int) throws -> [Int] {
        guard size >= 0, size <= n else {
            throw PythonCompatibleError("cannot take \(size) of \(n) items without replacement")
        }
        return Array(permutation(n).prefix(size))
    }

    /// `random_sample()`: 53 random bits from two draws, in [0, 1).
    public mutating func nextDouble() -> Double { generator.nextDouble() }

    /// `randn()`: one standard normal by the legacy polar (Marsaglia) method.
    public mutating func randn() -> Double {
        if let cached = cachedGauss {
            cachedGauss = nil
            return cached
        }
        var x1 = 0.0, x2 = 0.0, r2 = 0.0
        repeat {
            x1 = 2 * nextDouble() - 1
            x2 = 2 * nextDouble() - 1
            r2 = x1 * x1 + x2 * x2
        } while r2 >= 1 || r2 == 0
        let factor = (-2 * log(r2) / r2).squareRoot()
        cachedGauss = factor * x1
        return factor * x2
    }
}
