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
thread_local bool last_error_lost = false;
}

// Runs inside GUARD's catch handlers, so it must not throw itself: copying the message can
// run out of memory, and then the loss is what gets reported.
void set_last_error(const char *message) noexcept {
  try {
    last_error = message ? message : "";
    last_error_lost = false;
  } catch (...) {
    last_error_lost = true;
  }
}

std::vector<at::Tensor> tensor_list(const ctorch_tensor *ts, int n) {
  std::vector<at::Tensor> list;
  list.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) list.push_back(T(ts[i]));
  return list;
}

}  // namespace ctorch

using ctorch::T;
using ctorch::wrap;

extern "C" {

const char *ctorch_last_error(void) {
  return ctorch::last_error_lost ? "out of memory while recording libtorch's error message"
                                 : ctorch::last_error.c_str();
}

const char *ctorch_torch_version(void) { return TORCH_VERSION; }

// Total by design: a CUDA runtime that cannot even be queried is reported as zero devices,
// and Device.ensureAvailable turns that into the user-facing error.
int ctorch_cuda_device_count(void) {
  try {
    return at::detail::getCUDAHooks().getNumGPUs();
  } catch (...) {
    return 0;
  }
}

// Whether this libtorch carries CUDA (libtorch_cuda registered its hooks), GPUs or not: total,
// like the count, so `nanowm doctor` can tell "no GPU visible" from "a CPU-only libtorch".
int ctorch_cuda_is_built(void) {
  try {
    return at::detail::getCUDAHooks().hasCUDART() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int ctorch_cuda_synchronize(int device_index) {
  GUARD(at::detail::getCUDAHooks().deviceSynchronize(static_cast<c10::DeviceIndex>(device_index)))
}

int ctorch_set_num_threads(int n) { GUARD(at::set_num_threads(n)) }
int ctorch_get_num_threads(int *out) { GUARD(*out = at::get_num_threads()) }
// torch.set_float32_matmul_precision: "highest", "high" (TF32 on CUDA), "medium" (libtorch
// only warns about other names, so SwiftTorch passes these three alone).
int ctorch_set_float32_matmul_precision(const char *name) { GUARD(at::globalContext().setFloat32MatmulPrecision(name)) }
int ctorch_get_float32_matmul_precision(int *out) {
  GUARD(*out = static_cast<int>(at::globalContext().float32MatmulPrecision()))
}

// Destroying an at::Tensor only drops a reference count; destructors do not throw.
void ctorch_tensor_free(ctorch_tensor t) { delete t; }

int ctorch_tensor_alias(ctorch_tensor t, ctorch_tensor *out) { RETURN_TENSOR(T(t)) }

// The metadata getters throw on an undefined tensor (and data_ptr on one without storage),
// so they are guarded like every other call.
int ctorch_tensor_dim(ctorch_tensor t, int64_t *out) { GUARD(*out = T(t).dim()) }

static void copy_dims(at::IntArrayRef values, int64_t *out, int64_t capacity) {
  TORCH_CHECK(static_cast<int64_t>(values.size()) <= capacity, "the tensor has ", values.size(),
              " dimensions but the destination has room for ", capacity);
  std::copy(values.begin(), values.end(), out);
}

int ctorch_tensor_sizes(ctorch_tensor t, int64_t *out, int64_t capacity) {
  GUARD(copy_dims(T(t).sizes(), out, capacity))
}

// The header's device codes are c10::DeviceType values, passed through unconverted.
static_assert(CTORCH_CPU == static_cast<int>(c10::DeviceType::CPU) &&
                  CTORCH_CUDA == static_cast<int>(c10::DeviceType::CUDA) &&
                  CTORCH_META == static_cast<int>(c10::DeviceType::Meta),
              "ctorch.h device codes must match c10::DeviceType");

int ctorch_tensor_strides(ctorch_tensor t, int64_t *out, int64_t capacity) {
  GUARD(copy_dims(T(t).strides(), out, capacity))
}

int ctorch_tensor_numel(ctorch_tensor t, int64_t *out) { GUARD(*out = T(t).numel()) }

int ctorch_tensor_dtype(ctorch_tensor t, int *out) {
  GUARD(*out = static_cast<int>(T(t).scalar_type()))
}

int ctorch_tensor_device(ctorch_tensor t, int *type, int *index) {
  GUARD({
    auto device = T(t).device();
    *type = static_cast<int>(device.type());
    *index = device.has_index() ? device.index() : 0;
  })
}

int ctorch_tensor_is_contiguous(ctorch_tensor t, bool *out) { GUARD(*out = T(t).is_contiguous()) }

int ctorch_tensor_storage_offset(ctorch_tensor t, int64_t *out) {
  GUARD(*out = T(t).storage_offset())
}

int ctorch_tensor_data_ptr(ctorch_tensor t, void **out) { GUARD(*out = T(t).data_ptr()) }

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
      *out = ctorch_scalar{0, value.toBool() ? 1 : 0, CTORCH_SCALAR_BOOL};
    } else if (value.isIntegral(false)) {
      *out = ctorch_scalar{0, value.toLong(), CTORCH_SCALAR_INT};
    } else {
      *out = ctorch_scalar{value.toDouble(), 0, CTORCH_SCALAR_FLOAT};
    }
  })
}

int ctorch_manual_seed(uint64_t seed) { GUARD(at::manual_seed(seed)) }

static void check_generator_device(int device_type) {
  TORCH_CHECK(device_type == CTORCH_CPU || device_type == CTORCH_CUDA,
              "generators exist for cpu and cuda devices only (device type ", device_type, ")");
}

int ctorch_generator_new(uint64_t seed, int device_type, int device_index, ctorch_generator *out) {
  GUARD({
    check_generator_device(device_type);
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

// Context::defaultGenerator is the lookup at::manual_seed itself uses, in libtorch 2.11 and
// 2.13 alike; for CUDA it goes through the hooks, so a CPU-only libtorch compiles and reports
// the missing CUDA library as an error. at::Generator is a reference, so the copy shares the
// default's state.
int ctorch_generator_default(int device_type, int device_index, ctorch_generator *out) {
  GUARD({
    check_generator_device(device_type);
    auto device = device_type == CTORCH_CUDA
                      ? c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device_index))
                      : c10::Device(c10::DeviceType::CPU);
    *out = new ctorch_generator_s{at::globalContext().defaultGenerator(device)};
  })
}

// Dropping a generator reference does not throw.
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
