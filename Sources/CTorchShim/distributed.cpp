// Process groups over libtorch's own c10d: a TCPStore for the rendezvous, Gloo for CPU
// collectives, NCCL when built with CTORCH_WITH_NCCL (Package.swift sets it for a CUDA libtorch
// with CTORCH_NCCL=1; never compiled on the CPU-only machines this project is tested on).
// Every collective here is synchronous: it is issued and waited for with a timeout.
//
// Gloo's headers: the PyTorch wheel does not ship them, so ProcessGroupGloo.hpp compiles
// against Debian's libgloo-dev, while the gloo that runs is the one compiled into
// libtorch_cpu. To keep a version skew between the two harmless, this file never constructs,
// calls or lays out a gloo type itself: the devices come from
// ProcessGroupGloo::Options::create_default (built inside libtorch), the options hold them only
// as std::shared_ptr (whose size does not depend on the pointee), and ProcessGroupGloo's own
// members are all pointers, containers and std:: types. The gloo headers are needed only so
// the c10d declarations parse; without them (no libgloo-dev) the shim still builds, and
// reports Gloo as unavailable.
#if __has_include(<gloo/algorithm.h>)
#define USE_C10D_GLOO 1
#define CTORCH_WITH_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef CTORCH_WITH_NCCL
#define USE_C10D_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstring>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "shim.hpp"

#include "distributed.hpp"

struct ctorch_store_s {
  c10::intrusive_ptr<c10d::Store> store;
};

using ctorch::T;

namespace {

std::chrono::milliseconds millis(int64_t ms) { return std::chrono::milliseconds(ms); }

c10d::Backend &B(ctorch_process_group pg) {
  TORCH_CHECK(pg != nullptr && pg->backend, "a NULL process group handle was passed");
  return *pg->backend;
}

c10d::Store &S(ctorch_store s) {
  TORCH_CHECK(s != nullptr && s->store, "a NULL store handle was passed");
  return *s->store;
}

c10d::ReduceOp reduce_op(ctorch_collective_op op, bool native_average) {
  switch (op) {
    case CTORCH_COLLECTIVE_SUM: return c10d::ReduceOp::SUM;
    case CTORCH_COLLECTIVE_AVG: return native_average ? c10d::ReduceOp::AVG : c10d::ReduceOp::SUM;
    case CTORCH_COLLECTIVE_MAX: return c10d::ReduceOp::MAX;
    case CTORCH_COLLECTIVE_MIN: return c10d::ReduceOp::MIN;
  }
  TORCH_CHECK(false, "unknown reduction ", static_cast<int>(op));
}

// Waits for a collective; libtorch throws on a timeout or a lost peer.
void finish(const c10::intrusive_ptr<c10d::Work> &work, int64_t timeout_ms) {
  work->wait(millis(timeout_ms));
}

}  // namespace

extern "C" {

bool ctorch_dist_die_with_parent(int signal_number) {
#ifdef __linux__
  return prctl(PR_SET_PDEATHSIG, signal_number) == 0;
#else
  (void)signal_number;
  return false;
#endif
}

bool ctorch_dist_backend_available(ctorch_dist_backend backend) {
  switch (backend) {
    case CTORCH_BACKEND_GLOO:
#ifdef CTORCH_WITH_GLOO
      return true;
#else
      return false;
#endif
    case CTORCH_BACKEND_NCCL:
#ifdef CTORCH_WITH_NCCL
      return true;
#else
      return false;
#endif
  }
  return false;
}

int ctorch_store_tcp(const char *host, int port, int world_size, bool is_server, int64_t timeout_ms,
                     const char *prefix, ctorch_store *out) {
  GUARD({
    TORCH_CHECK(host != nullptr && prefix != nullptr, "NULL host or prefix");
    TORCH_CHECK(port > 0 && port < 65536, "port ", port, " is out of range (1…65535)");
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(port);
    options.isServer = is_server;
    options.numWorkers = world_size;
    // Every rank announces itself (clients count in); the server then waits for all of them.
    options.waitWorkers = true;
    options.timeout = millis(timeout_ms);
    options.multiTenant = true;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(host, options);
    *out = new ctorch_store_s{c10::make_intrusive<c10d::PrefixStore>(prefix, store)};
  })
}

void ctorch_store_free(ctorch_store s) { delete s; }

int ctorch_store_set(ctorch_store s, const char *key, const char *value) {
  GUARD({
    std::string text(value);
    S(s).set(key, std::vector<uint8_t>(text.begin(), text.end()));
  })
}

int ctorch_store_check(ctorch_store s, const char *key, bool *out) {
  GUARD(*out = S(s).check({std::string(key)}))
}

int ctorch_store_get(ctorch_store s, const char *key, char *buffer, size_t capacity, size_t *length) {
  GUARD({
    auto value = S(s).get(key);
    *length = value.size();
    std::memcpy(buffer, value.data(), std::min(capacity, value.size()));
  })
}

int ctorch_process_group_new(ctorch_store s, int rank, int world_size, ctorch_dist_backend backend,
                             int64_t timeout_ms, ctorch_process_group *out) {
  GUARD({
    S(s);  // reports a NULL handle
    c10::intrusive_ptr<c10d::Store> store = s->store;  // the group keeps its own reference
    switch (backend) {
      case CTORCH_BACKEND_GLOO: {
#ifdef CTORCH_WITH_GLOO
        auto options = c10d::ProcessGroupGloo::Options::create_default(millis(timeout_ms));
        auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
        *out = new ctorch_process_group_s{group, world_size, false};
        break;
#else
        TORCH_CHECK(false, "this build has no Gloo: install Gloo's headers (Debian: libgloo-dev) and rebuild");
#endif
      }
      case CTORCH_BACKEND_NCCL: {
#ifdef CTORCH_WITH_NCCL
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = millis(timeout_ms);
        auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, options);
        *out = new ctorch_process_group_s{group, world_size, true};
        break;
#else
        TORCH_CHECK(false, "this libtorch has no NCCL (a CPU build): use the gloo backend");
#endif
      }
      default: TORCH_CHECK(false, "unknown backend ", static_cast<int>(backend));
    }
  })
}

void ctorch_process_group_free(ctorch_process_group pg) { delete pg; }

int ctorch_process_group_allreduce(ctorch_process_group pg, ctorch_tensor t, ctorch_collective_op op,
                                   int64_t timeout_ms) {
  GUARD({
    std::vector<at::Tensor> tensors{T(t)};
    c10d::AllreduceOptions options;
    options.reduceOp = reduce_op(op, pg != nullptr && pg->native_average);
    options.timeout = millis(timeout_ms);
    finish(B(pg).allreduce(tensors, options), timeout_ms);
    if (op == CTORCH_COLLECTIVE_AVG && !pg->native_average) T(t).div_(pg->world_size);
  })
}

int ctorch_process_group_broadcast(ctorch_process_group pg, ctorch_tensor t, int root, int64_t timeout_ms) {
  GUARD({
    std::vector<at::Tensor> tensors{T(t)};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    options.timeout = millis(timeout_ms);
    finish(B(pg).broadcast(tensors, options), timeout_ms);
  })
}

int ctorch_process_group_allgather(ctorch_process_group pg, ctorch_tensor t, int64_t timeout_ms,
                                   ctorch_tensor *out) {
  GUARD({
    auto input = T(t).contiguous();
    std::vector<at::Tensor> inputs{input};
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int i = 0; i < B(pg).getSize(); ++i) outputs[0].push_back(at::empty_like(input));
    c10d::AllgatherOptions options;
    options.timeout = millis(timeout_ms);
    finish(B(pg).allgather(outputs, inputs, options), timeout_ms);
    *out = ctorch::wrap(at::stack(outputs[0]));
  })
}

int ctorch_process_group_barrier(ctorch_process_group pg, int64_t timeout_ms) {
  GUARD({
    c10d::BarrierOptions options;
    options.timeout = millis(timeout_ms);
    finish(B(pg).barrier(options), timeout_ms);
  })
}

}  // extern "C"
