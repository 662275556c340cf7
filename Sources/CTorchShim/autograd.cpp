// Autograd, grad mode, autocast and dtype/device moves.
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>

#include "shim.hpp"

using ctorch::T;
using ctorch::wrap;

extern "C" {

int ctorch_to(ctorch_tensor t, int dtype, int device_type, int device_index, bool copy,
              ctorch_tensor *out) {
  GUARD({
    auto &x = T(t);
    auto target_dtype = dtype < 0 ? x.scalar_type() : static_cast<at::ScalarType>(dtype);
    auto target_device = device_type < 0
                             ? x.device()
                             : at::Device(static_cast<at::DeviceType>(device_type),
                                          static_cast<c10::DeviceIndex>(device_index));
    *out = wrap(x.to(target_device, target_dtype, /*non_blocking=*/false, copy));
  })
}

int ctorch_set_requires_grad(ctorch_tensor t, bool requires_grad) {
  GUARD(T(t).set_requires_grad(requires_grad))
}

bool ctorch_requires_grad(ctorch_tensor t) { return T(t).requires_grad(); }

int ctorch_backward(ctorch_tensor t, ctorch_tensor grad, bool retain_graph, bool create_graph) {
  GUARD(T(t).backward(grad ? T(grad) : at::Tensor(), retain_graph, create_graph))
}

int ctorch_grad(ctorch_tensor t, ctorch_tensor *out) {
  GUARD({
    const auto &g = T(t).grad();
    *out = g.defined() ? wrap(g) : nullptr;
  })
}

int ctorch_set_grad(ctorch_tensor t, ctorch_tensor grad) {
  GUARD(T(t).mutable_grad() = grad ? T(grad) : at::Tensor())
}

int ctorch_detach(ctorch_tensor t, ctorch_tensor *out) { RETURN_TENSOR(T(t).detach()) }
int ctorch_detach_(ctorch_tensor t) { GUARD(T(t).detach_()) }

bool ctorch_is_grad_enabled(void) { return c10::GradMode::is_enabled(); }
void ctorch_set_grad_enabled(bool enabled) { c10::GradMode::set_enabled(enabled); }

bool ctorch_autocast_is_enabled(int device_type) {
  return at::autocast::is_autocast_enabled(static_cast<at::DeviceType>(device_type));
}

int ctorch_autocast_set_enabled(int device_type, bool enabled) {
  GUARD(at::autocast::set_autocast_enabled(static_cast<at::DeviceType>(device_type), enabled))
}

int ctorch_autocast_get_dtype(int device_type) {
  return static_cast<int>(at::autocast::get_autocast_dtype(static_cast<at::DeviceType>(device_type)));
}

int ctorch_autocast_set_dtype(int device_type, int dtype) {
  GUARD(at::autocast::set_autocast_dtype(static_cast<at::DeviceType>(device_type),
                                         static_cast<at::ScalarType>(dtype)))
}

int ctorch_autocast_enter(void) { return at::autocast::increment_nesting(); }

int ctorch_autocast_exit(void) {
  int depth = at::autocast::decrement_nesting();
  if (depth == 0) at::autocast::clear_cache();
  return depth;
}

}  // extern "C"
