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

int ctorch_requires_grad(ctorch_tensor t, bool *out) { GUARD(*out = T(t).requires_grad()) }

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

int ctorch_is_grad_enabled(bool *out) { GUARD(*out = c10::GradMode::is_enabled()) }
int ctorch_set_grad_enabled(bool enabled) { GUARD(c10::GradMode::set_enabled(enabled)) }

// libtorch indexes its per-device autocast tables by device type without a bounds check in
// some getters (get_autocast_dtype), so every autocast call first refuses a device type
// autocast does not support; is_autocast_available only compares, so any value is safe.
static at::DeviceType autocast_device(int device_type) {
  auto type = static_cast<at::DeviceType>(device_type);
  TORCH_CHECK(at::autocast::is_autocast_available(type),
              "autocast does not support device type ", device_type);
  return type;
}

int ctorch_autocast_is_enabled(int device_type, bool *out) {
  GUARD(*out = at::autocast::is_autocast_enabled(autocast_device(device_type)))
}

int ctorch_autocast_set_enabled(int device_type, bool enabled) {
  GUARD(at::autocast::set_autocast_enabled(autocast_device(device_type), enabled))
}

int ctorch_autocast_get_dtype(int device_type, int *out) {
  GUARD(*out = static_cast<int>(at::autocast::get_autocast_dtype(autocast_device(device_type))))
}

int ctorch_autocast_set_dtype(int device_type, int dtype) {
  GUARD(at::autocast::set_autocast_dtype(autocast_device(device_type),
                                         static_cast<at::ScalarType>(dtype)))
}

int ctorch_autocast_enter(int *depth) { GUARD(*depth = at::autocast::increment_nesting()) }

int ctorch_autocast_exit(int *depth) {
  GUARD({
    *depth = at::autocast::decrement_nesting();
    if (*depth == 0) at::autocast::clear_cache();  // takes a lock, which can throw
  })
}

}  // extern "C"
