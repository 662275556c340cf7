
/// CPython's `random.Random(seed)` for a non-negative integer seed: the MT19937 generator seeded
/// by `init_by_array` with the seed's 32-bit words, and the `getrandbits`, `random`, `choice`
/// and `randint` built on it, bit for bit. Upstream draws dataset goals with it, so the same
/// seed picks the same trajectories and offsets here.
public struct PythonRandom {
    private var generator: MersenneTwister

    public init(seed: UInt64) {
        // CPython splits |seed| into little-endian 32-bit words; 0 gives the single word 0.
        var key: [UInt32] = []
        var rest = seed
        repeat { key.append(UInt32(truncatingIfNeeded: rest)); rest >>= 32 } while rest != 0
        generator = MersenneTwister(key: key)
    }

    /// One tempered 32-bit output (`genrand_uint32`).
    public mutating func next32() -> UInt32 { generator.nextUInt32() }

    /// `random()`: a double in [0, 1) from 53 random bits.
    public mutating func random() -> Double { generator.nextDouble() }

    /// `getrandbits(k)` for 0 < k ≤ 64 (words from least to most significant, as CPython).
    public mutating func bits(_ k: Int) -> UInt64 {
        precondition(k > 0 && k <= 64)
        if k <= 32 { return UInt64(next32() >> (32 - k)) }
        let low = UInt64(next32())
        let high = UInt64(next32() >> (64 - k))
        return low | (high << 32)
    }

    /// `_randbelow(n)`: uniform in 0..<n by rejection on `bit_length(n)` bits.
    public mutating func below(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        let k = Int.bitWidth - n.leadingZeroBitCount
        var r = bits(k)
        while r >= UInt64(n) { r = bits(k) }
        return Int(r)
    }

    /// `randint(a, b)`: uniform in a...b.
    public mutating func randint(_ a: Int, _ b: Int) -> Int {
        precondition(b >= a, "randint needs a ≤ b")
        return a + below(b - a + 1)
    }

    /// `choice(seq)`.
    public mutating func choice<T>(_ items: [T]) -> T {
        precondition(!items.isEmpty, "choice from an empty sequence")
        return items[below(items.count)]
    }
}
