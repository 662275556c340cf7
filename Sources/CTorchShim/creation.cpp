// Tensor creation and random sampling.
#include "shim.hpp"

using ctorch::T;
using ctorch::wrap;

extern "C" {

int ctorch_filled(ctorch_fill_op op, const int64_t *sizes, int ndim, int dtype, int device_type,
                  int device_index, ctorch_tensor *out) {
  GUARD({
    auto shape = ctorch::ints(sizes, ndim);
    auto opts = ctorch::options(dtype, device_type, device_index);
    switch (op) {
      case CTORCH_FILL_EMPTY: *out = wrap(at::empty(shape, opts)); break;
      case CTORCH_FILL_ZEROS: *out = wrap(at::zeros(shape, opts)); break;
      case CTORCH_FILL_ONES: *out = wrap(at::ones(shape, opts)); break;
      default: TORCH_CHECK(false, "unknown fill op ", static_cast<int>(op));
    }
  })
}

int ctorch_full(const int64_t *sizes, int ndim, ctorch_scalar value, int dtype,
                int device_type, int device_index, ctorch_tensor *out) {
  RETURN_TENSOR(at::full(ctorch::ints(sizes, ndim), ctorch::scalar(value),
                         ctorch::options(dtype, device_type, device_index)))
}

int ctorch_arange(ctorch_scalar start, ctorch_scalar end, ctorch_scalar step, int dtype,
                  int device_type, int device_index, ctorch_tensor *out) {
  RETURN_TENSOR(at::arange(ctorch::scalar(start), ctorch::scalar(end), ctorch::scalar(step),
                           ctorch::options(dtype, device_type, device_index)))
}

int ctorch_linspace(double start, double end, int64_t steps, int dtype, int device_type,
                    int device_index, ctorch_tensor *out) {
  RETURN_TENSOR(at::linspace(start, end, steps, ctorch::options(dtype, device_type, device_index)))
}

int ctorch_random(ctorch_distribution dist, const int64_t *sizes, int ndim, int dtype,
                  int device_type, int device_index, ctorch_generator gen, ctorch_tensor *out) {
  GUARD({
    auto shape = ctorch::ints(sizes, ndim);
    auto opts = ctorch::options(dtype, device_type, device_index);
    auto g = ctorch::optional_generator(gen);
    switch (dist) {
      case CTORCH_DIST_UNIFORM: *out = wrap(at::rand(shape, g, opts)); break;
      case CTORCH_DIST_NORMAL: *out = wrap(at::randn(shape, g, opts)); break;
      default: TORCH_CHECK(false, "unknown distribution ", static_cast<int>(dist));
    }
  })
}

int ctorch_randint(int64_t low, int64_t high, const int64_t *sizes, int ndim, int dtype,
                   int device_type, int device_index, ctorch_generator gen, ctorch_tensor *out) {
  RETURN_TENSOR(at::randint(low, high, ctorch::ints(sizes, ndim), ctorch::optional_generator(gen),
                            ctorch::options(dtype, device_type, device_index)))
}

int ctorch_randperm(int64_t n, int dtype, int device_type, int device_index,
                    ctorch_generator gen, ctorch_tensor *out) {
  RETURN_TENSOR(at::randperm(n, ctorch::optional_generator(gen),
                             ctorch::options(dtype, device_type, device_index)))
}

int ctorch_random_(ctorch_distribution dist, ctorch_tensor t, double a, double b,
                   ctorch_generator gen) {
  GUARD({
    auto g = ctorch::optional_generator(gen);
    switch (dist) {
      case CTORCH_DIST_UNIFORM: T(t).uniform_(a, b, g); break;
      case CTORCH_DIST_NORMAL: T(t).normal_(a, b, g); break;
      default: TORCH_CHECK(false, "unknown distribution ", static_cast<int>(dist));
    }
  })
}

}  // extern "C"
