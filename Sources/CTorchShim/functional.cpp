// Linear algebra and the neural-network functions models are built from.
#include "shim.hpp"

using ctorch::T;
using ctorch::wrap;

namespace {

std::optional<double> optional_scale(const double *scales, int i) {
  if (scales == nullptr) return std::nullopt;
  return scales[i];
}

at::Tensor interpolate(const at::Tensor &x, ctorch_interpolate_mode mode, at::IntArrayRef size, const double *scales,
                       int align_corners) {
  int spatial = static_cast<int>(size.size());
  TORCH_CHECK(x.dim() == spatial + 2, "interpolate: input of ", x.dim(),
              " dimensions cannot be resized to ", spatial, " spatial sizes");
  bool corners = align_corners > 0;
  auto s = [&](int i) { return optional_scale(scales, i); };
  if ((mode == CTORCH_NEAREST || mode == CTORCH_NEAREST_EXACT || mode == CTORCH_AREA) &&
      align_corners >= 0) {
    TORCH_CHECK(false, "align_corners option can only be set with the interpolating modes: "
                       "linear | bilinear | bicubic | trilinear");
  }
  switch (mode) {
    case CTORCH_NEAREST:
      if (spatial == 1) return at::upsample_nearest1d(x, size, s(0));
      if (spatial == 2) return at::upsample_nearest2d(x, size, s(0), s(1));
      if (spatial == 3) return at::upsample_nearest3d(x, size, s(0), s(1), s(2));
      break;
    case CTORCH_NEAREST_EXACT:
      if (spatial == 1) return at::_upsample_nearest_exact1d(x, size, s(0));
      if (spatial == 2) return at::_upsample_nearest_exact2d(x, size, s(0), s(1));
      if (spatial == 3) return at::_upsample_nearest_exact3d(x, size, s(0), s(1), s(2));
      break;
    case CTORCH_LINEAR:
      if (spatial == 1) return at::upsample_linear1d(x, size, corners, s(0));
      break;
    case CTORCH_BILINEAR:
      if (spatial == 2) return at::upsample_bilinear2d(x, size, corners, s(0), s(1));
      break;
    case CTORCH_BICUBIC:
      if (spatial == 2) return at::upsample_bicubic2d(x, size, corners, s(0), s(1));
      break;
    case CTORCH_TRILINEAR:
      if (spatial == 3) return at::upsample_trilinear3d(x, size, corners, s(0), s(1), s(2));
      break;
    case CTORCH_AREA:
      if (spatial == 1) return at::adaptive_avg_pool1d(x, size);
      if (spatial == 2) return at::adaptive_avg_pool2d(x, size);
      if (spatial == 3) return at::adaptive_avg_pool3d(x, size);
      break;
  }
  TORCH_CHECK(false, "interpolate: mode ", static_cast<int>(mode), " does not support ", spatial,
              " spatial dimensions");
}

}  // namespace

extern "C" {

int ctorch_matmul(ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) {
  RETURN_TENSOR(at::matmul(T(a), T(b)))
}

int ctorch_linear(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b, ctorch_tensor *out) {
  RETURN_TENSOR(at::linear(T(x), T(w), ctorch::optional_tensor(b)))
}

int ctorch_einsum(const char *equation, const ctorch_tensor *ts, int n, ctorch_tensor *out) {
  RETURN_TENSOR(at::einsum(equation, ctorch::tensor_list(ts, n)))
}

int ctorch_linalg_svdvals(ctorch_tensor a, ctorch_tensor *out) {
  RETURN_TENSOR(at::linalg_svdvals(T(a)))
}

int ctorch_softmax(ctorch_tensor t, int64_t dim, int dtype, bool log, ctorch_tensor *out) {
  GUARD({
    std::optional<at::ScalarType> d;
    if (dtype >= 0) d = static_cast<at::ScalarType>(dtype);
    *out = wrap(log ? at::log_softmax(T(t), dim, d) : at::softmax(T(t), dim, d));
  })
}

int ctorch_layer_norm(ctorch_tensor x, const int64_t *shape, int ndim, ctorch_tensor w,
                      ctorch_tensor b, double eps, ctorch_tensor *out) {
  RETURN_TENSOR(at::layer_norm(T(x), ctorch::ints(shape, ndim), ctorch::optional_tensor(w),
                               ctorch::optional_tensor(b), eps))
}

int ctorch_rms_norm(ctorch_tensor x, const int64_t *shape, int ndim, ctorch_tensor w,
                    bool has_eps, double eps, ctorch_tensor *out) {
  RETURN_TENSOR(at::rms_norm(T(x), ctorch::ints(shape, ndim), ctorch::optional_tensor(w),
                             has_eps ? std::optional<double>(eps) : std::nullopt))
}

int ctorch_group_norm(ctorch_tensor x, int64_t groups, ctorch_tensor w, ctorch_tensor b,
                      double eps, ctorch_tensor *out) {
  RETURN_TENSOR(at::group_norm(T(x), groups, ctorch::optional_tensor(w),
                               ctorch::optional_tensor(b), eps))
}

int ctorch_sdpa(ctorch_tensor q, ctorch_tensor k, ctorch_tensor v, ctorch_tensor mask,
                double dropout_p, bool is_causal, bool has_scale, double scale, bool enable_gqa,
                ctorch_tensor *out) {
  RETURN_TENSOR(at::scaled_dot_product_attention(
      T(q), T(k), T(v), ctorch::optional_tensor(mask), dropout_p, is_causal,
      has_scale ? std::optional<double>(scale) : std::nullopt, enable_gqa))
}

int ctorch_conv(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b, int spatial,
                const int64_t *stride, const int64_t *padding, const int64_t *dilation,
                int64_t groups, ctorch_tensor *out) {
  GUARD({
    auto st = ctorch::ints(stride, spatial);
    auto pd = ctorch::ints(padding, spatial);
    auto dl = ctorch::ints(dilation, spatial);
    auto bias = ctorch::optional_tensor(b);
    switch (spatial) {
      case 1: *out = wrap(at::conv1d(T(x), T(w), bias, st, pd, dl, groups)); break;
      case 2: *out = wrap(at::conv2d(T(x), T(w), bias, st, pd, dl, groups)); break;
      case 3: *out = wrap(at::conv3d(T(x), T(w), bias, st, pd, dl, groups)); break;
      default: TORCH_CHECK(false, "convolution over ", spatial, " spatial dimensions");
    }
  })
}

int ctorch_interpolate(ctorch_tensor x, ctorch_interpolate_mode mode, const int64_t *sizes, int n,
                       const double *scales, int align_corners, ctorch_tensor *out) {
  RETURN_TENSOR(interpolate(T(x), mode, ctorch::ints(sizes, n), scales, align_corners))
}

int ctorch_dropout(ctorch_tensor x, double p, bool train, ctorch_tensor *out) {
  RETURN_TENSOR(at::dropout(T(x), p, train))
}

int ctorch_embedding(ctorch_tensor weight, ctorch_tensor indices, ctorch_tensor *out) {
  RETURN_TENSOR(at::embedding(T(weight), T(indices)))
}

}  // extern "C"
