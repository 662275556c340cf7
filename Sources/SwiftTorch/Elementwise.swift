import CTorchShim

/// Elementwise math: PyTorch's names, broadcasting and type promotion (libtorch's own).
extension Tensor {
    @inline(__always)
    func unary(_ op: ctorch_unary_op) throws -> Tensor {
        try makeTensor { ctorch_unary(op, handle, $0) }
    }

    @inline(__always)
    func unary_(_ op: ctorch_unary_op) throws -> Tensor {
        try check(ctorch_unary_(op, handle))
        return self
    }

    @inline(__always)
    func binary(_ op: ctorch_binary_op, _ other: Tensor) throws -> Tensor {
        try makeTensor { ctorch_binary(op, handle, other.handle, $0) }
    }

    @inline(__always)
    func binary(_ op: ctorch_binary_op, _ other: Scalar) throws -> Tensor {
        try makeTensor { ctorch_binary_scalar(op, handle, other.c, $0) }
    }

    public func neg() throws -> Tensor { try unary(CTORCH_NEG) }
    public func abs() throws -> Tensor { try unary(CTORCH_ABS) }
    public func exp() throws -> Tensor { try unary(CTORCH_EXP) }
    public func log() throws -> Tensor { try unary(CTORCH_LOG) }
    public func log2() throws -> Tensor { try unary(CTORCH_LOG2) }
    public func log10() throws -> Tensor { try unary(CTORCH_LOG10) }
    public func log1p() throws -> Tensor { try unary(CTORCH_LOG1P) }
    public func expm1() throws -> Tensor { try unary(CTORCH_EXPM1) }
    public func sqrt() throws -> Tensor { try unary(CTORCH_SQRT) }
    public func rsqrt() throws -> Tensor { try unary(CTORCH_RSQRT) }
    public func square() throws -> Tensor { try unary(CTORCH_SQUARE) }
    public func reciprocal() throws -> Tensor { try unary(CTORCH_RECIPROCAL) }
    public func sin() throws -> Tensor { try unary(CTORCH_SIN) }
    public func cos() throws -> Tensor { try unary(CTORCH_COS) }
    public func tan() throws -> Tensor { try unary(CTORCH_TAN) }
    public func asin() throws -> Tensor { try unary(CTORCH_ASIN) }
    public func acos() throws -> Tensor { try unary(CTORCH_ACOS) }
    public func atan() throws -> Tensor { try unary(CTORCH_ATAN) }
    public func sinh() throws -> Tensor { try unary(CTORCH_SINH) }
    public func cosh() throws -> Tensor { try unary(CTORCH_COSH) }
    public func tanh() throws -> Tensor { try unary(CTORCH_TANH) }
    public func sigmoid() throws -> Tensor { try unary(CTORCH_SIGMOID) }
    public func silu() throws -> Tensor { try unary(CTORCH_SILU) }
    public func relu() throws -> Tensor { try unary(CTORCH_RELU) }
    public func erf() throws -> Tensor { try unary(CTORCH_ERF) }
    public func floor() throws -> Tensor { try unary(CTORCH_FLOOR) }
    public func ceil() throws -> Tensor { try unary(CTORCH_CEIL) }
    public func round() throws -> Tensor { try unary(CTORCH_ROUND) }
    public func trunc() throws -> Tensor { try unary(CTORCH_TRUNC) }
    public func sign() throws -> Tensor { try unary(CTORCH_SIGN) }
    public func logicalNot() throws -> Tensor { try unary(CTORCH_LOGICAL_NOT) }
    public func isnan() throws -> Tensor { try unary(CTORCH_ISNAN) }
    public func isinf() throws -> Tensor { try unary(CTORCH_ISINF) }
    public func isfinite() throws -> Tensor { try unary(CTORCH_ISFINITE) }

    /// GELU; `approximate: "tanh"` selects the tanh form, as in `F.gelu`.
    public func gelu(approximate: String = "none") throws -> Tensor {
        switch approximate {
        case "none": return try unary(CTORCH_GELU)
        case "tanh": return try unary(CTORCH_GELU_TANH)
        default: throw TorchError.invalidArgument("gelu: approximate must be 'none' or 'tanh', got '\(approximate)'")
        }
    }

    public func pow(_ exponent: Tensor) throws -> Tensor { try binary(CTORCH_POW, exponent) }
    public func pow(_ exponent: Scalar) throws -> Tensor { try binary(CTORCH_POW, exponent) }
    public func remainder(_ other: Tensor) throws -> Tensor { try binary(CTORCH_REMAINDER, other) }
    public func remainder(_ other: Scalar) throws -> Tensor { try binary(CTORCH_REMAINDER, other) }
    public func floorDivide(_ other: Tensor) throws -> Tensor { try binary(CTORCH_FLOOR_DIVIDE, other) }
    public func floorDivide(_ other: Scalar) throws -> Tensor { try binary(CTORCH_FLOOR_DIVIDE, other) }
    public func maximum(_ other: Tensor) throws -> Tensor { try binary(CTORCH_MAXIMUM, other) }
    public func minimum(_ other: Tensor) throws -> Tensor { try binary(CTORCH_MINIMUM, other) }
    public func atan2(_ other: Tensor) throws -> Tensor { try binary(CTORCH_ATAN2, other) }
    public func logicalAnd(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LOGICAL_AND, other) }
    public func logicalOr(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LOGICAL_OR, other) }
    public func logicalXor(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LOGICAL_XOR, other) }

    // Comparisons return bool tensors; `==` stays free for identity-free Swift equality.
    public func eq(_ other: Tensor) throws -> Tensor { try binary(CTORCH_EQ, other) }
    public func eq(_ other: Scalar) throws -> Tensor { try binary(CTORCH_EQ, other) }
    public func ne(_ other: Tensor) throws -> Tensor { try binary(CTORCH_NE, other) }
    public func ne(_ other: Scalar) throws -> Tensor { try binary(CTORCH_NE, other) }
    public func lt(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LT, other) }
    public func lt(_ other: Scalar) throws -> Tensor { try binary(CTORCH_LT, other) }
    public func le(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LE, other) }
    public func le(_ other: Scalar) throws -> Tensor { try binary(CTORCH_LE, other) }
    public func gt(_ other: Tensor) throws -> Tensor { try binary(CTORCH_GT, other) }
    public func gt(_ other: Scalar) throws -> Tensor { try binary(CTORCH_GT, other) }
    public func ge(_ other: Tensor) throws -> Tensor { try binary(CTORCH_GE, other) }
    public func ge(_ other: Scalar) throws -> Tensor { try binary(CTORCH_GE, other) }

    public func clamp(min: Double? = nil, max: Double? = nil) throws -> Tensor {
        try makeTensor { ctorch_clamp(handle, min != nil, min ?? 0, max != nil, max ?? 0, $0) }
    }

    /// `torch.where(condition, a, b)`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try makeTensor { ctorch_where(condition.handle, a.handle, b.handle, $0) }
    }

    public func maskedFill(_ mask: Tensor, _ value: Scalar) throws -> Tensor {
        try makeTensor { ctorch_masked_fill(handle, mask.handle, value.c, $0) }
    }

    /// True when every element is within `atol + rtol·|other|` of `other` (`torch.allclose`).
    public func allClose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) throws -> Bool {
        let diff = try (self - other).abs()
        let bound = try other.abs() * rtol + atol
        return try diff.le(bound).all().item(Bool.self)
    }
}

// MARK: Operators

extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CTORCH_ADD, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CTORCH_SUB, b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CTORCH_MUL, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CTORCH_DIV, b) }

    public static func + (a: Tensor, b: Double) throws -> Tensor { try a.binary(CTORCH_ADD, .double(b)) }
    public static func - (a: Tensor, b: Double) throws -> Tensor { try a.binary(CTORCH_SUB, .double(b)) }
    public static func * (a: Tensor, b: Double) throws -> Tensor { try a.binary(CTORCH_MUL, .double(b)) }
    public static func / (a: Tensor, b: Double) throws -> Tensor { try a.binary(CTORCH_DIV, .double(b)) }
    public static func + (a: Tensor, b: Int) throws -> Tensor { try a.binary(CTORCH_ADD, .int(b)) }
    public static func - (a: Tensor, b: Int) throws -> Tensor { try a.binary(CTORCH_SUB, .int(b)) }
    public static func * (a: Tensor, b: Int) throws -> Tensor { try a.binary(CTORCH_MUL, .int(b)) }
    public static func / (a: Tensor, b: Int) throws -> Tensor { try a.binary(CTORCH_DIV, .int(b)) }

    public static func + (a: Double, b: Tensor) throws -> Tensor { try b.binary(CTORCH_ADD, .double(a)) }
    public static func * (a: Double, b: Tensor) throws -> Tensor { try b.binary(CTORCH_MUL, .double(a)) }
    public static func - (a: Double, b: Tensor) throws -> Tensor { try b.binary(CTORCH_RSUB, .double(a)) }
    /// As Python's `2 / t`: the reciprocal times the scalar.
    public static func / (a: Double, b: Tensor) throws -> Tensor { try b.reciprocal() * a }
    public static func + (a: Int, b: Tensor) throws -> Tensor { try b.binary(CTORCH_ADD, .int(a)) }
    public static func * (a: Int, b: Tensor) throws -> Tensor { try b.binary(CTORCH_MUL, .int(a)) }
    public static func - (a: Int, b: Tensor) throws -> Tensor { try b.binary(CTORCH_RSUB, .int(a)) }

    public static prefix func - (a: Tensor) throws -> Tensor { try a.neg() }
}

// MARK: In place

extension Tensor {
    @discardableResult public func add_(_ other: Tensor) throws -> Tensor { try check(ctorch_binary_(CTORCH_ADD, handle, other.handle)); return self }
    @discardableResult public func sub_(_ other: Tensor) throws -> Tensor { try check(ctorch_binary_(CTORCH_SUB, handle, other.handle)); return self }
    @discardableResult public func mul_(_ other: Tensor) throws -> Tensor { try check(ctorch_binary_(CTORCH_MUL, handle, other.handle)); return self }
    @discardableResult public func div_(_ other: Tensor) throws -> Tensor { try check(ctorch_binary_(CTORCH_DIV, handle, other.handle)); return self }
    @discardableResult public func add_(_ other: Scalar) throws -> Tensor { try check(ctorch_binary_scalar_(CTORCH_ADD, handle, other.c)); return self }
    @discardableResult public func sub_(_ other: Scalar) throws -> Tensor { try check(ctorch_binary_scalar_(CTORCH_SUB, handle, other.c)); return self }
    @discardableResult public func mul_(_ other: Scalar) throws -> Tensor { try check(ctorch_binary_scalar_(CTORCH_MUL, handle, other.c)); return self }
    @discardableResult public func div_(_ other: Scalar) throws -> Tensor { try check(ctorch_binary_scalar_(CTORCH_DIV, handle, other.c)); return self }
    @discardableResult public func pow_(_ other: Scalar) throws -> Tensor { try check(ctorch_binary_scalar_(CTORCH_POW, handle, other.c)); return self }

    @discardableResult public func neg_() throws -> Tensor { try unary_(CTORCH_NEG) }
    @discardableResult public func exp_() throws -> Tensor { try unary_(CTORCH_EXP) }
    @discardableResult public func sqrt_() throws -> Tensor { try unary_(CTORCH_SQRT) }
    @discardableResult public func sigmoid_() throws -> Tensor { try unary_(CTORCH_SIGMOID) }
    @discardableResult public func silu_() throws -> Tensor { try unary_(CTORCH_SILU) }
    @discardableResult public func tanh_() throws -> Tensor { try unary_(CTORCH_TANH) }
    @discardableResult public func relu_() throws -> Tensor { try unary_(CTORCH_RELU) }

    @discardableResult
    public func clamp_(min: Double? = nil, max: Double? = nil) throws -> Tensor {
        try check(ctorch_clamp_(handle, min != nil, min ?? 0, max != nil, max ?? 0))
        return self
    }

    /// self += weight · (end − self)
    @discardableResult
    public func lerp_(_ end: Tensor, weight: Double) throws -> Tensor {
        try check(ctorch_lerp_(handle, end.handle, weight)); return self
    }

    /// self += value · a · b
    @discardableResult
    public func addcmul_(_ a: Tensor, _ b: Tensor, value: Double = 1) throws -> Tensor {
        try check(ctorch_addcmul_(handle, a.handle, b.handle, value)); return self
    }

    /// self += value · a / b
    @discardableResult
    public func addcdiv_(_ a: Tensor, _ b: Tensor, value: Double = 1) throws -> Tensor {
        try check(ctorch_addcdiv_(handle, a.handle, b.handle, value)); return self
    }

    @discardableResult
    public func fill_(_ value: Scalar) throws -> Tensor {
        try check(ctorch_fill_(handle, value.c)); return self
    }

    @discardableResult
    public func zero_() throws -> Tensor { try fill_(.int(0)) }

    /// Copies `source` into this tensor's storage (broadcasting, converting dtype/device).
    @discardableResult
    public func copy_(_ source: Tensor) throws -> Tensor {
        try check(ctorch_copy_(handle, source.handle)); return self
    }
}
