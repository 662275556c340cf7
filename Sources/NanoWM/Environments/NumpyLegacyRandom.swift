import Foundation

/// NumPy's legacy `np.random.RandomState(seed)`: MT19937 seeded with `init_genrand`, `randint`
/// by masked rejection on 32-bit draws, `randn` by the polar Box–Muller method that caches its
/// second value. Upstream's PushT draws its random start and goal states with it, so the same
/// seed must give the same states here.
public struct NumpyLegacyRandom: Sendable {
    private static let n = 624, m = 397
    private var key = [UInt32](repeating: 0, count: 624)
    private var position = 624
    private var cachedGauss: Double?

    /// `RandomState(seed)`; NumPy accepts seeds in [0, 2³²).
    public init(seed: UInt32) {
        var s = seed
        for i in 0..<Self.n {
            key[i] = s
            s = 1_812_433_253 &* (s ^ (s >> 30)) &+ UInt32(i + 1)
        }
    }

    /// One 32-bit draw (`genrand_int32`).
    public mutating func nextUInt32() -> UInt32 {
        if position == Self.n { twist() }
        var y = key[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        func mixed(_ i: Int, _ j: Int, _ k: Int) -> UInt32 {
            let y = (key[i] & 0x8000_0000) | (key[j] & 0x7fff_ffff)
            return key[k] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_b0df)
        }
        for i in 0..<(Self.n - Self.m) { key[i] = mixed(i, i + 1, i + Self.m) }
        for i in (Self.n - Self.m)..<(Self.n - 1) { key[i] = mixed(i, i + 1, i + Self.m - Self.n) }
        key[Self.n - 1] = mixed(Self.n - 1, 0, Self.m - 1)
        position = 0
    }

    /// `random_sample()`: 53 random bits from two draws.
    public mutating func nextDouble() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `randint(low, high)`: an integer in [low, high), drawn as NumPy does for a range below 2³².
    public mutating func randint(_ low: Int, _ high: Int) -> Int {
        precondition(high > low && high - low - 1 <= Int(UInt32.max), "randint needs low < high within 2^32")
        let range = UInt32(high - low - 1)
        if range == 0 { return low }
        var mask = range
        for shift in [1, 2, 4, 8, 16] { mask |= mask >> UInt32(shift) }
        while true {
            let value = nextUInt32() & mask
            if value <= range { return low + Int(value) }
        }
    }

    /// `randn()`: one standard normal value (legacy polar method; every second call is cached).
    public mutating func randn() -> Double {
        if let cached = cachedGauss {
            cachedGauss = nil
            return cached
        }
        var x1 = 0.0, x2 = 0.0, r2 = 0.0
        repeat {
            x1 = 2.0 * nextDouble() - 1.0
            x2 = 2.0 * nextDouble() - 1.0
            r2 = x1 * x1 + x2 * x2
        } while r2 >= 1.0 || r2 == 0.0
        let f = (-2.0 * log(r2) / r2).squareRoot()
        cachedGauss = f * x1
        return f * x2
    }
}
