// Internal helpers shared by the shim's translation units. Never included from Swift.
#pragma once

#ifdef CTORCH_LIBTORCH_MISSING
#error "libtorch not found. Run scripts/setup (it installs PyTorch 2.13.0 CPU into .venv), or set LIBTORCH to a libtorch folder or a PyTorch install's site-packages/torch."
#else
#include <ATen/ATen.h>
#endif

#include <optional>
#include <string>
#include <vector>

#include "ctorch.h"

struct ctorch_tensor_s {
  at::Tensor tensor;
};

struct ctorch_generator_s {
  at::Generator generator;
};

namespace ctorch {

void set_last_error(const char *message) noexcept;

// Every handle is read through T(), so a NULL handle becomes a reported error (T is only
// called inside GUARD) instead of a crash.
inline at::Tensor &T(ctorch_tensor h) {
  TORCH_CHECK(h != nullptr, "a NULL tensor handle was passed where a tensor is required");
  return h->tensor;
}

inline ctorch_tensor wrap(at::Tensor t) { return new ctorch_tensor_s{std::move(t)}; }

inline std::optional<at::Tensor> optional_tensor(ctorch_tensor h) {
  if (h == nullptr) return std::nullopt;
  return h->tensor;
}

inline std::optional<at::Generator> optional_generator(ctorch_generator g) {
  if (g == nullptr) return std::nullopt;
  return g->generator;
}

inline at::IntArrayRef ints(const int64_t *values, int n) {
  return at::IntArrayRef(values, static_cast<size_t>(n));
}

inline at::Scalar scalar(ctorch_scalar s) {
  switch (s.kind) {
    case CTORCH_SCALAR_INT: return at::Scalar(s.i);
    case CTORCH_SCALAR_BOOL: return at::Scalar(s.i != 0);
    case CTORCH_SCALAR_FLOAT: return at::Scalar(s.f);
  }
  TORCH_CHECK(false, "unknown scalar kind ", static_cast<int>(s.kind));
}

inline at::TensorOptions options(int dtype, int device_type, int device_index) {
  return at::TensorOptions()
      .dtype(static_cast<at::ScalarType>(dtype))
      .device(at::Device(static_cast<at::DeviceType>(device_type),
                         static_cast<c10::DeviceIndex>(device_index)));
}

std::vector<at::Tensor> tensor_list(const ctorch_tensor *ts, int n);

}  // namespace ctorch

// Every entry point that reaches into libtorch is wrapped in GUARD(...): the body runs, any C++ exception is
// turned into the thread's last-error message and a status of 1.
#define GUARD(...)                                                     \
  try {                                                                \
    __VA_ARGS__;                                                          \
    return 0;                                                          \
  } catch (const c10::Error &e) {                                      \
    ctorch::set_last_error(e.what_without_backtrace());                \
  } catch (const std::exception &e) {                                  \
    ctorch::set_last_error(e.what());                                  \
  } catch (...) {                                                      \
    ctorch::set_last_error("unknown C++ exception in libtorch");       \
  }                                                                    \
  return 1;

// Shorthand for the common "compute one tensor into *out" body.
#define RETURN_TENSOR(...) GUARD(*out = ctorch::wrap(__VA_ARGS__))
