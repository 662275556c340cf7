/// MT19937, the generator under NumPy's legacy `RandomState` and CPython's `random.Random`.
/// The two differ only in how they seed it (`init_genrand` from one 32-bit word, `init_by_array`
/// from a key of words) and in what they build on its 32-bit outputs, so both build on this.
public struct MersenneTwister: Sendable {
    private static let size = 624, shift = 397
    private var state = [UInt32](repeating: 0, count: 624)
    private var position = 624

    /// `init_genrand(seed)`.
    public init(seed: UInt32) {
        state[0] = seed
        for i in 1..<Self.size {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    /// `init_by_array(key)`: CPython's seeding from an integer's 32-bit words.
    public init(key: [UInt32]) {
        precondition(!key.isEmpty, "init_by_array needs at least one key word")
        self.init(seed: 19_650_218)
        var (i, j) = (1, 0)
        for _ in 0..<Swift.max(Self.size, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= Self.size { state[0] = state[Self.size - 1]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<(Self.size - 1) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= Self.size { state[0] = state[Self.size - 1]; i = 1 }
        }
        state[0] = 0x8000_0000
    }

    /// One tempered 32-bit output (`genrand_int32`).
    public mutating func nextUInt32() -> UInt32 {
        if position == Self.size { regenerate() }
        var y = state[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// A double in [0, 1) from 53 random bits of two outputs (NumPy's `random_sample`, CPython's
    /// `random`).
    public mutating func nextDouble() -> Double {
        let high = Double(nextUInt32() >> 5), low = Double(nextUInt32() >> 6)
        return (high * 67_108_864.0 + low) / 9_007_199_254_740_992.0
    }

    private mutating func regenerate() {
        for i in 0..<Self.size {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % Self.size] & 0x7FFF_FFFF)
            state[i] = state[(i + Self.shift) % Self.size] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
        }
        position = 0
    }
}
