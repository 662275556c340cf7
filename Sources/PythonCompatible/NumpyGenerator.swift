/// NumPy's default generator (`numpy.random.default_rng(seed)`): PCG64 (the 128-bit LCG with
/// the XSL-RR output) seeded through `SeedSequence`, and the draws the reference makes with it:
/// `choice(n, size=k, replace=False)`, which subsamples point clouds. Reproduced bit for bit
/// (tested against NumPy), so a subsample made here holds the reference's points.
public struct NumpyGenerator {
    private var state: UInt128Parts
    private let increment: UInt128Parts
    /// PCG64 hands out 32-bit draws as halves of one 64-bit output, low half first.
    private var pendingHalf: UInt32?

    /// `default_rng(seed)` for a non-negative integer seed.
    public init(seed: UInt64) {
        let words = Self.seedSequenceState(entropy: seed, words32: 8)
        func word64(_ i: Int) -> UInt64 { UInt64(words[2 * i]) | UInt64(words[2 * i + 1]) << 32 }
        let initialState = UInt128Parts(high: word64(0), low: word64(1))
        let sequence = UInt128Parts(high: word64(2), low: word64(3))
        // pcg64_srandom: state 0, odd increment from the sequence, a step, add the seed, a step.
        increment = sequence.shiftedLeftOne.settingLowBit
        state = UInt128Parts(high: 0, low: 0)
        step()
        state = state.adding(initialState)
        step()
    }

    public mutating func nextUInt64() -> UInt64 {
        step()
        let rotation = UInt64(state.high >> 58)
        let folded = state.high ^ state.low
        return (folded >> rotation) | (folded << ((64 &- rotation) & 63))
    }

    public mutating func nextUInt32() -> UInt32 {
        if let half = pendingHalf {
            pendingHalf = nil
            return half
        }
        let next = nextUInt64()
        pendingHalf = UInt32(truncatingIfNeeded: next >> 32)
        return UInt32(truncatingIfNeeded: next)
    }

    /// A uniform integer in 0...`maximum` as NumPy's `random_bounded_uint64` draws it: Lemire's
    /// multiply-and-reject on 32-bit draws for ranges below 2³², on 64-bit draws above.
    public mutating func bounded(_ maximum: UInt64) -> UInt64 {
        if maximum == 0 { return 0 }
        if maximum <= UInt64(UInt32.max) {
            if maximum == UInt64(UInt32.max) { return UInt64(nextUInt32()) }
            let range = UInt32(maximum) &+ 1
            var product = UInt64(nextUInt32()) * UInt64(range)
            var leftover = UInt32(truncatingIfNeeded: product)
            if leftover < range {
                let threshold = (UInt32.max &- UInt32(maximum)) % range
                while leftover < threshold {
                    product = UInt64(nextUInt32()) * UInt64(range)
                    leftover = UInt32(truncatingIfNeeded: product)
                }
            }
            return product >> 32
        }
        if maximum == UInt64.max { return nextUInt64() }
        let range = maximum &+ 1
        var product = nextUInt64().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (UInt64.max &- maximum) % range
            while product.low < threshold { product = nextUInt64().multipliedFullWidth(by: range) }
        }
        return product.high
    }

    /// `choice(population, size=count, replace=False)` (shuffled, as by default): a tail
    /// shuffle of the whole range when the sample is large, else Floyd's algorithm followed by
    /// a shuffle, with NumPy's cutoff between the two.
    public mutating func choiceWithoutReplacement(population: Int, count: Int) throws -> [Int] {
        guard count >= 0, count <= population else {
            throw PythonCompatibleError("cannot take a sample of \(count) from \(population) without replacement")
        }
        if population > 10_000 && count > population / 50 {
            var order = Array(0..<population)
            shuffle(&order, first: Swift.max(population - count, 1))
            return Array(order[(population - count)...])
        }
        var sample = [Int](repeating: 0, count: count)
        guard count > 0 else { return sample }
        // A hash set of open addressing, sized to the power of two above 1.2 × count.
        var mask = UInt64(1.2 * Double(count))
        for shift in [1, 2, 4, 8, 16, 32] as [UInt64] { mask |= mask >> shift }
        var table = [UInt64](repeating: UInt64.max, count: Int(mask) + 1)
        for j in (population - count)..<population {
            let value = bounded(UInt64(j))
            var slot = value & mask
            while table[Int(slot)] != UInt64.max && table[Int(slot)] != value { slot = (slot + 1) & mask }
            if table[Int(slot)] == UInt64.max {
                table[Int(slot)] = value
                sample[j - population + count] = Int(value)
            } else {
                slot = UInt64(j) & mask
                while table[Int(slot)] != UInt64.max { slot = (slot + 1) & mask }
                table[Int(slot)] = UInt64(j)
                sample[j - population + count] = j
            }
        }
        shuffle(&sample, first: 1)
        return sample
    }

    /// Fisher–Yates from the end down to `first`, as NumPy's `_shuffle_int`.
    private mutating func shuffle(_ values: inout [Int], first: Int) {
        guard values.count > first else { return }
        for i in stride(from: values.count - 1, through: first, by: -1) {
            let j = Int(bounded(UInt64(i)))
            values.swapAt(i, j)
        }
    }

    private mutating func step() {
        state = state.multiplied(by: Self.multiplier).adding(increment)
    }

    private static let multiplier = UInt128Parts(high: 2_549_297_995_355_413_924, low: 4_865_540_595_714_422_341)

    /// `SeedSequence(entropy).generate_state(words32, uint32)`: the entropy's 32-bit words
    /// hashed into a pool of four, then drawn out through a second hash.
    static func seedSequenceState(entropy: UInt64, words32: Int) -> [UInt32] {
        let (initA, multA, initB, multB): (UInt32, UInt32, UInt32, UInt32) = (0x43b0_d7e5, 0x931e_8875, 0x8b51_f9dd, 0x58f3_8ded)
        let (mixLeft, mixRight): (UInt32, UInt32) = (0xca01_f9dd, 0x4973_f715)
        var entropyWords: [UInt32] = [UInt32(truncatingIfNeeded: entropy)]
        if entropy >> 32 != 0 { entropyWords.append(UInt32(truncatingIfNeeded: entropy >> 32)) }
        var hashConstant = initA
        func hashmix(_ input: UInt32) -> UInt32 {
            var value = input ^ hashConstant
            hashConstant = hashConstant &* multA
            value = value &* hashConstant
            return value ^ (value >> 16)
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let result = (mixLeft &* x) &- (mixRight &* y)
            return result ^ (result >> 16)
        }
        let poolSize = 4
        var pool = (0..<poolSize).map { i in hashmix(i < entropyWords.count ? entropyWords[i] : 0) }
        for source in 0..<poolSize {
            for destination in 0..<poolSize where source != destination {
                pool[destination] = mix(pool[destination], hashmix(pool[source]))
            }
        }
        for source in poolSize..<Swift.max(poolSize, entropyWords.count) {
            for destination in 0..<poolSize { pool[destination] = mix(pool[destination], hashmix(entropyWords[source])) }
        }
        var outConstant = initB
        return (0..<words32).map { i in
            var value = pool[i % poolSize] ^ outConstant
            outConstant = outConstant &* multB
            value = value &* outConstant
            return value ^ (value >> 16)
        }
    }
}

/// A 128-bit unsigned integer as two halves, with the wrapping arithmetic PCG64 needs.
struct UInt128Parts {
    var high: UInt64
    var low: UInt64

    func adding(_ other: UInt128Parts) -> UInt128Parts {
        let (low, carry) = self.low.addingReportingOverflow(other.low)
        return UInt128Parts(high: high &+ other.high &+ (carry ? 1 : 0), low: low)
    }

    func multiplied(by other: UInt128Parts) -> UInt128Parts {
        let product = low.multipliedFullWidth(by: other.low)
        return UInt128Parts(high: product.high &+ low &* other.high &+ high &* other.low, low: product.low)
    }

    var shiftedLeftOne: UInt128Parts { UInt128Parts(high: high << 1 | low >> 63, low: low << 1) }
    var settingLowBit: UInt128Parts { UInt128Parts(high: high, low: low | 1) }
}
