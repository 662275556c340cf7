// Errors, runtime queries, tensor lifecycle and metadata, host copies, generators.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <cstring>

#include "shim.hpp"

namespace ctorch {

namespace {
thread_local std::string last_error;
}

void set_last_error(const char *message) { last_error = message ? message : ""; }

std::vector<at::Tensor> tensor_list(const ctorch_tensor *ts, int n) {
  std::vector<at::Tensor> list;
  list.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) list.push_back(ts[i]->tensor);
  return list;
}

}  // namespace ctorch

using ctorch::T;
using ctorch::wrap;

extern "C" {

const char *ctorch_last_error(void) { return ctorch::last_error.c_str(); }

const char *ctorch_torch_version(void) { return TORCH_VERSION; }

int ctorch_cuda_device_count(void) {
  try {
    return at::detail::getCUDAHooks().getNumGPUs();
  } catch (...) {
    return 0;
  }
}

int ctorch_cuda_synchronize(int device_index) {
  GUARD(at::detail::getCUDAHooks().deviceSynchronize(static_cast<c10::DeviceIndex>(device_index)))
}

void ctorch_set_num_threads(int n) { at::set_num_threads(n); }
int ctorch_get_num_threads(void) { return at::get_num_threads(); }

void ctorch_tensor_free(ctorch_tensor t) { delete t; }

int ctorch_tensor_alias(ctorch_tensor t, ctorch_tensor *out) { RETURN_TENSOR(T(t)) }

int64_t ctorch_tensor_dim(ctorch_tensor t) { return T(t).dim(); }

void ctorch_tensor_sizes(ctorch_tensor t, int64_t *out) {
  auto sizes = T(t).sizes();
  std::copy(sizes.begin(), sizes.end(), out);
}

void ctorch_tensor_strides(ctorch_tensor t, int64_t *out) {
  auto strides = T(t).strides();
  std::copy(strides.begin(), strides.end(), out);
}

int64_t ctorch_tensor_numel(ctorch_tensor t) { return T(t).numel(); }
int ctorch_tensor_dtype(ctorch_tensor t) { return static_cast<int>(T(t).scalar_type()); }

// The header's device codes are c10::DeviceType values, passed through unconverted.
static_assert(CTORCH_CPU == static_cast<int>(c10::DeviceType::CPU) &&
                  CTORCH_CUDA == static_cast<int>(c10::DeviceType::CUDA) &&
                  CTORCH_META == static_cast<int>(c10::DeviceType::Meta),
              "ctorch.h device codes must match c10::DeviceType");

void ctorch_tensor_device(ctorch_tensor t, int *type, int *index) {
  auto device = T(t).device();
  *type = static_cast<int>(device.type());
  *index = device.has_index() ? device.index() : 0;
}

bool ctorch_tensor_is_defined(ctorch_tensor t) { return T(t).defined(); }
bool ctorch_tensor_is_contiguous(ctorch_tensor t) { return T(t).is_contiguous(); }
int64_t ctorch_tensor_storage_offset(ctorch_tensor t) { return T(t).storage_offset(); }
int64_t ctorch_tensor_element_size(ctorch_tensor t) { return T(t).element_size(); }
void *ctorch_tensor_data_ptr(ctorch_tensor t) { return T(t).data_ptr(); }

int ctorch_tensor_from_bytes(const void *data, const int64_t *sizes, int ndim, int dtype,
                             ctorch_tensor *out) {
  GUARD({
    auto t = at::empty(ctorch::ints(sizes, ndim), at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)));
    if (t.numel() > 0) std::memcpy(t.data_ptr(), data, t.nbytes());
    *out = wrap(std::move(t));
  })
}

int ctorch_tensor_to_bytes(ctorch_tensor t, void *dst, size_t nbytes) {
  GUARD({
    auto host = T(t).detach().to(at::kCPU).contiguous();
    TORCH_CHECK(host.nbytes() == nbytes, "to_bytes: tensor holds ", host.nbytes(),
                " bytes but the destination has ", nbytes);
    if (nbytes > 0) std::memcpy(dst, host.data_ptr(), nbytes);
  })
}

int ctorch_tensor_item(ctorch_tensor t, ctorch_scalar *out) {
  GUARD({
    auto value = T(t).item();
    if (value.isBoolean()) {
      *out = ctorch_scalar{0, value.toBool() ? 1 : 0, 2};
    } else if (value.isIntegral(false)) {
      *out = ctorch_scalar{0, value.toLong(), 1};
    } else {
      *out = ctorch_scalar{value.toDouble(), 0, 0};
    }
  })
}

int ctorch_manual_seed(uint64_t seed) { GUARD(at::manual_seed(seed)) }

int ctorch_generator_new(uint64_t seed, int device_type, int device_index, ctorch_generator *out) {
  GUARD({
    at::Generator gen;
    if (device_type == CTORCH_CUDA) {
      gen = at::detail::getCUDAHooks().getNewGenerator(static_cast<c10::DeviceIndex>(device_index));
    } else {
      gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    }
    gen.set_current_seed(seed);
    *out = new ctorch_generator_s{std::move(gen)};
  })
}

void ctorch_generator_free(ctorch_generator g) { delete g; }

static at::Generator resolve_generator(ctorch_generator g) {
  return g ? g->generator : at::detail::getDefaultCPUGenerator();
}

int ctorch_generator_get_state(ctorch_generator g, ctorch_tensor *out) {
  GUARD({
    auto gen = resolve_generator(g);
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = wrap(gen.get_state());
  })
}

int ctorch_generator_set_state(ctorch_generator g, ctorch_tensor state) {
  GUARD({
    auto gen = resolve_generator(g);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(T(state));
  })
}

int ctorch_generator_seed(ctorch_generator g, uint64_t *out) {
  GUARD(*out = resolve_generator(g).current_seed())
}

}  // extern "C"
