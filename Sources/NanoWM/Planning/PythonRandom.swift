/// CPython's `random.Random(seed)` for a non-negative integer seed: the MT19937 generator seeded
/// by `init_by_array` with the seed's 32-bit words, and the `getrandbits`, `random`, `choice`
/// and `randint` built on it, bit for bit. Upstream draws dataset goals with it, so the same
/// seed picks the same trajectories and offsets here.
public struct PythonRandom {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    public init(seed: UInt64) {
        // CPython splits |seed| into little-endian 32-bit words; 0 gives the single word 0.
        var key: [UInt32] = []
        var rest = seed
        repeat { key.append(UInt32(truncatingIfNeeded: rest)); rest >>= 32 } while rest != 0
        initialize(by: key)
    }

    private mutating func initialize(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        index = 624
    }

    private mutating func initialize(by key: [UInt32]) {
        initialize(seed: 19_650_218)
        var (i, j) = (1, 0)
        for _ in 0..<Swift.max(624, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
        }
        state[0] = 0x8000_0000
    }

    /// One tempered 32-bit output (`genrand_uint32`).
    public mutating func next32() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        for k in 0..<624 {
            let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7FFF_FFFF)
            state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
        }
        index = 0
    }

    /// `random()`: a double in [0, 1) from 53 random bits.
    public mutating func random() -> Double {
        let a = Double(next32() >> 5), b = Double(next32() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }

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
