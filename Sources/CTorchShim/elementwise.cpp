// Elementwise arithmetic, comparisons and math, out of place and in place.
#include <cmath>
#include "shim.hpp"

using ctorch::T;
using ctorch::wrap;

namespace {

at::Tensor unary(ctorch_unary_op op, const at::Tensor &x) {
  switch (op) {
    case CTORCH_NEG: return at::neg(x);
    case CTORCH_ABS: return at::abs(x);
    case CTORCH_EXP: return at::exp(x);
    case CTORCH_LOG: return at::log(x);
    case CTORCH_SQRT: return at::sqrt(x);
    case CTORCH_RSQRT: return at::rsqrt(x);
    case CTORCH_SIN: return at::sin(x);
    case CTORCH_COS: return at::cos(x);
    case CTORCH_TANH: return at::tanh(x);
    case CTORCH_SIGMOID: return at::sigmoid(x);
    case CTORCH_SILU: return at::silu(x);
    case CTORCH_GELU: return at::gelu(x);
    case CTORCH_GELU_TANH: return at::gelu(x, "tanh");
    case CTORCH_RELU: return at::relu(x);
    case CTORCH_FLOOR: return at::floor(x);
    case CTORCH_CEIL: return at::ceil(x);
    case CTORCH_ROUND: return at::round(x);
    case CTORCH_SIGN: return at::sign(x);
    case CTORCH_RECIPROCAL: return at::reciprocal(x);
    case CTORCH_SQUARE: return at::square(x);
    case CTORCH_LOG1P: return at::log1p(x);
    case CTORCH_EXPM1: return at::expm1(x);
    case CTORCH_ERF: return at::erf(x);
    case CTORCH_LOGICAL_NOT: return at::logical_not(x);
    case CTORCH_ISNAN: return at::isnan(x);
    case CTORCH_ISINF: return at::isinf(x);
    case CTORCH_ISFINITE: return at::isfinite(x);
    case CTORCH_TRUNC: return at::trunc(x);
    case CTORCH_LOG2: return at::log2(x);
    case CTORCH_LOG10: return at::log10(x);
    case CTORCH_ATAN: return at::atan(x);
    case CTORCH_ASIN: return at::asin(x);
    case CTORCH_ACOS: return at::acos(x);
    case CTORCH_TAN: return at::tan(x);
    case CTORCH_SINH: return at::sinh(x);
    case CTORCH_COSH: return at::cosh(x);
  }
  TORCH_CHECK(false, "unknown unary op ", static_cast<int>(op));
}

void unary_(ctorch_unary_op op, at::Tensor &x) {
  switch (op) {
    case CTORCH_NEG: x.neg_(); return;
    case CTORCH_ABS: x.abs_(); return;
    case CTORCH_EXP: x.exp_(); return;
    case CTORCH_LOG: x.log_(); return;
    case CTORCH_SQRT: x.sqrt_(); return;
    case CTORCH_RSQRT: x.rsqrt_(); return;
    case CTORCH_SIN: x.sin_(); return;
    case CTORCH_COS: x.cos_(); return;
    case CTORCH_TANH: x.tanh_(); return;
    case CTORCH_SIGMOID: x.sigmoid_(); return;
    case CTORCH_SILU: at::silu_(x); return;
    case CTORCH_RELU: x.relu_(); return;
    case CTORCH_FLOOR: x.floor_(); return;
    case CTORCH_CEIL: x.ceil_(); return;
    case CTORCH_ROUND: x.round_(); return;
    case CTORCH_RECIPROCAL: x.reciprocal_(); return;
    case CTORCH_SQUARE: x.square_(); return;
    case CTORCH_TRUNC: x.trunc_(); return;
    default: break;  // handled below
  }
  // Everything else has no dedicated in-place kernel: compute, then copy back.
  x.copy_(unary(op, x));
}

template <typename B>
at::Tensor binary(ctorch_binary_op op, const at::Tensor &a, const B &b) {
  switch (op) {
    case CTORCH_ADD: return at::add(a, b);
    case CTORCH_SUB: return at::sub(a, b);
    case CTORCH_MUL: return at::mul(a, b);
    case CTORCH_DIV: return at::div(a, b);
    case CTORCH_POW: return at::pow(a, b);
    case CTORCH_REMAINDER: return at::remainder(a, b);
    case CTORCH_EQ: return at::eq(a, b);
    case CTORCH_NE: return at::ne(a, b);
    case CTORCH_LT: return at::lt(a, b);
    case CTORCH_LE: return at::le(a, b);
    case CTORCH_GT: return at::gt(a, b);
    case CTORCH_GE: return at::ge(a, b);
    case CTORCH_FLOOR_DIVIDE: return at::floor_divide(a, b);
    case CTORCH_RSUB: return at::rsub(a, b);
    default: break;  // handled below
  }
  if constexpr (std::is_same_v<B, at::Tensor>) {
    switch (op) {
      case CTORCH_MAXIMUM: return at::maximum(a, b);
      case CTORCH_MINIMUM: return at::minimum(a, b);
      case CTORCH_LOGICAL_AND: return at::logical_and(a, b);
      case CTORCH_LOGICAL_OR: return at::logical_or(a, b);
      case CTORCH_LOGICAL_XOR: return at::logical_xor(a, b);
      case CTORCH_ATAN2: return at::atan2(a, b);
      default: break;  // handled below
    }
  } else {
    switch (op) {
      case CTORCH_MAXIMUM: return at::clamp_min(a, b);
      case CTORCH_MINIMUM: return at::clamp_max(a, b);
      default: break;  // handled below
    }
  }
  TORCH_CHECK(false, "binary op ", static_cast<int>(op), " is not available for this operand kind");
}

template <typename B>
void binary_(ctorch_binary_op op, at::Tensor &a, const B &b) {
  switch (op) {
    case CTORCH_ADD: a.add_(b); return;
    case CTORCH_SUB: a.sub_(b); return;
    case CTORCH_MUL: a.mul_(b); return;
    case CTORCH_DIV: a.div_(b); return;
    case CTORCH_POW: a.pow_(b); return;
    case CTORCH_REMAINDER: a.remainder_(b); return;
    default: break;  // handled below
  }
  a.copy_(binary(op, a, b));
}

}  // namespace

extern "C" {

int ctorch_unary(ctorch_unary_op op, ctorch_tensor t, ctorch_tensor *out) { RETURN_TENSOR(unary(op, T(t))) }
int ctorch_unary_(ctorch_unary_op op, ctorch_tensor t) { GUARD(unary_(op, T(t))) }

int ctorch_binary(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) {
  RETURN_TENSOR(binary(op, T(a), T(b)))
}

int ctorch_binary_scalar(ctorch_binary_op op, ctorch_tensor a, ctorch_scalar b, ctorch_tensor *out) {
  RETURN_TENSOR(binary(op, T(a), ctorch::scalar(b)))
}

int ctorch_binary_(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b) { GUARD(binary_(op, T(a), T(b))) }

int ctorch_binary_scalar_(ctorch_binary_op op, ctorch_tensor a, ctorch_scalar b) {
  GUARD(binary_(op, T(a), ctorch::scalar(b)))
}

// A whole-number bound on an integer tensor is an integer, as Python's `t.clamp(min=0)`
// passes it, so the result keeps the tensor's integer dtype instead of promoting to float.
static std::optional<at::Scalar> bound(const at::Tensor &t, bool has, double value) {
  if (!has) return std::nullopt;
  bool integral = !at::isFloatingType(t.scalar_type()) && !at::isComplexType(t.scalar_type());
  if (integral && std::nearbyint(value) == value && std::fabs(value) < 9.0e18)
    return at::Scalar(static_cast<int64_t>(value));
  return at::Scalar(value);
}

int ctorch_clamp(ctorch_tensor t, bool has_min, double min, bool has_max, double max,
                 ctorch_tensor *out) {
  RETURN_TENSOR(at::clamp(T(t), bound(T(t), has_min, min), bound(T(t), has_max, max)))
}

int ctorch_clamp_(ctorch_tensor t, bool has_min, double min, bool has_max, double max) {
  GUARD(T(t).clamp_(bound(T(t), has_min, min), bound(T(t), has_max, max)))
}

int ctorch_where(ctorch_tensor cond, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) {
  RETURN_TENSOR(at::where(T(cond), T(a), T(b)))
}

int ctorch_masked_fill(ctorch_tensor t, ctorch_tensor mask, ctorch_scalar value,
                       ctorch_tensor *out) {
  RETURN_TENSOR(at::masked_fill(T(t), T(mask), ctorch::scalar(value)))
}

int ctorch_lerp_(ctorch_tensor t, ctorch_tensor end, double weight) {
  GUARD(T(t).lerp_(T(end), weight))
}

int ctorch_addcmul_(ctorch_tensor t, ctorch_tensor a, ctorch_tensor b, double value) {
  GUARD(T(t).addcmul_(T(a), T(b), value))
}

int ctorch_addcdiv_(ctorch_tensor t, ctorch_tensor a, ctorch_tensor b, double value) {
  GUARD(T(t).addcdiv_(T(a), T(b), value))
}

int ctorch_fill_(ctorch_tensor t, ctorch_scalar value) { GUARD(T(t).fill_(ctorch::scalar(value))) }

int ctorch_copy_(ctorch_tensor dst, ctorch_tensor src) { GUARD(T(dst).copy_(T(src))) }

}  // extern "C"
