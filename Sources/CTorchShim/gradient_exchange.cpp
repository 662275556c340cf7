// Gradient averaging overlapped with the backward pass, the way DDP's reducer does it: a
// post-accumulate-grad hook on every parameter counts its bucket down, and a bucket whose
// gradients have all accumulated is flattened and its allreduce launched (asynchronously, on
// the backend's threads) while autograd goes on with the earlier layers. Buckets launch in
// bucket order on every rank, so the ranks issue the same collectives in the same order.
// After the backward pass, launch_rest() launches what never became ready (parameters without
// a gradient contribute zeros) and wait() waits for every bucket with a timeout and writes the
// averages back into the gradients.
//
// Nothing throws out of a hook: an error while launching is kept and reported by launch_rest().
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <chrono>
#include <mutex>

#include "distributed.hpp"
#include "shim.hpp"

struct ctorch_gradient_exchange_s {
  c10::intrusive_ptr<c10d::Backend> backend;
  int world_size = 1;
  std::vector<at::Tensor> parameters;
  std::vector<size_t> bucket_of;              // parameter → bucket
  std::vector<std::vector<size_t>> buckets;   // bucket → parameters, in flattening order
  std::mutex mutex;
  bool armed = false;
  std::vector<size_t> waiting;                // per bucket: gradients still to accumulate
  std::vector<at::Tensor> flat;               // per launched bucket
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t next = 0;                            // the next bucket to launch
  std::string failure;
  std::chrono::milliseconds timeout{0};

  void ready(size_t parameter) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || !failure.empty()) return;
    try {
      --waiting[bucket_of[parameter]];
      while (next < buckets.size() && waiting[next] == 0) launch(next++);
    } catch (const c10::Error &e) {
      failure = e.what_without_backtrace();
    } catch (const std::exception &e) {
      failure = e.what();
    }
  }

  // Caller holds the mutex.
  void launch(size_t bucket) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> parts;
    for (size_t index : buckets[bucket]) {
      const at::Tensor &p = parameters[index];
      at::Tensor grad = p.grad();
      parts.push_back(grad.defined() ? grad.reshape({-1}) : at::zeros({p.numel()}, p.options()));
    }
    flat[bucket] = at::cat(parts);
    std::vector<at::Tensor> tensors{flat[bucket]};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    options.timeout = timeout;
    works[bucket] = backend->allreduce(tensors, options);
  }

  void reset() {
    armed = false;
    next = 0;
    failure.clear();
    for (size_t b = 0; b < buckets.size(); ++b) {
      waiting[b] = buckets[b].size();
      flat[b] = at::Tensor();
      works[b].reset();
    }
  }
};

namespace {

struct ReadyHook : torch::autograd::PostAccumulateGradHook {
  ReadyHook(ctorch_gradient_exchange_s *owner, size_t index) : owner(owner), index(index) {}
  void operator()(const torch::autograd::Variable &) override { owner->ready(index); }
  ctorch_gradient_exchange_s *owner;
  size_t index;
};

}  // namespace

extern "C" {

int ctorch_gradient_exchange_new(ctorch_process_group pg, const ctorch_tensor *parameters, const int *bucket_of,
                                 int count, int64_t timeout_ms, ctorch_gradient_exchange *out) {
  GUARD({
    TORCH_CHECK(pg != nullptr && pg->backend, "a NULL process group handle was passed");
    TORCH_CHECK(count >= 0, "a negative parameter count was passed");
    auto exchange = std::make_unique<ctorch_gradient_exchange_s>();
    exchange->backend = pg->backend;
    exchange->world_size = pg->world_size;
    exchange->timeout = std::chrono::milliseconds(timeout_ms);
    for (int i = 0; i < count; ++i) {
      const at::Tensor &p = ctorch::T(parameters[i]);
      TORCH_CHECK(p.is_leaf() && p.requires_grad(), "parameter ", i, " is not a leaf that requires grad");
      TORCH_CHECK(bucket_of[i] >= 0, "parameter ", i, " has a negative bucket");
      size_t bucket = static_cast<size_t>(bucket_of[i]);
      if (bucket >= exchange->buckets.size()) exchange->buckets.resize(bucket + 1);
      exchange->buckets[bucket].push_back(static_cast<size_t>(i));
      exchange->parameters.push_back(p);
      exchange->bucket_of.push_back(bucket);
    }
    for (size_t b = 0; b < exchange->buckets.size(); ++b) {
      TORCH_CHECK(!exchange->buckets[b].empty(), "bucket ", b, " has no parameters");
    }
    exchange->waiting.resize(exchange->buckets.size());
    exchange->flat.resize(exchange->buckets.size());
    exchange->works.resize(exchange->buckets.size());
    exchange->reset();
    for (size_t i = 0; i < exchange->parameters.size(); ++i) {
      torch::autograd::impl::set_post_acc_grad_hooks(exchange->parameters[i],
                                                    std::make_unique<ReadyHook>(exchange.get(), i));
    }
    *out = exchange.release();
  })
}

int ctorch_gradient_exchange_arm(ctorch_gradient_exchange x) {
  GUARD({
    TORCH_CHECK(x != nullptr, "a NULL gradient exchange handle was passed");
    std::lock_guard<std::mutex> lock(x->mutex);
    x->reset();
    x->armed = true;
  })
}

int ctorch_gradient_exchange_launch_rest(ctorch_gradient_exchange x, int *early, int *collectives) {
  GUARD({
    TORCH_CHECK(x != nullptr, "a NULL gradient exchange handle was passed");
    std::lock_guard<std::mutex> lock(x->mutex);
    TORCH_CHECK(x->armed, "the gradient exchange was not armed before the backward pass");
    *early = *collectives = static_cast<int>(x->next);
    TORCH_CHECK(x->failure.empty(), x->failure);
    while (x->next < x->buckets.size()) {
      x->launch(x->next);
      *collectives = static_cast<int>(++x->next);
    }
  })
}

int ctorch_gradient_exchange_wait(ctorch_gradient_exchange x) {
  GUARD({
    TORCH_CHECK(x != nullptr, "a NULL gradient exchange handle was passed");
    std::lock_guard<std::mutex> lock(x->mutex);
    TORCH_CHECK(x->armed && x->next == x->buckets.size(), "wait before every bucket was launched");
    at::NoGradGuard no_grad;
    for (size_t b = 0; b < x->buckets.size(); ++b) {
      x->works[b]->wait(x->timeout);
      at::Tensor &flat = x->flat[b];
      flat.div_(x->world_size);
      int64_t offset = 0;
      for (size_t index : x->buckets[b]) {
        at::Tensor &p = x->parameters[index];
        at::Tensor grad = p.grad();
        if (grad.defined()) grad.copy_(flat.narrow(0, offset, p.numel()).view(grad.sizes()));
        offset += p.numel();
      }
    }
    x->reset();
  })
}

void ctorch_gradient_exchange_free(ctorch_gradient_exchange x) {
  if (x == nullptr) return;
  try {
    for (const at::Tensor &p : x->parameters) torch::autograd::impl::set_post_acc_grad_hooks(p, nullptr);
  } catch (...) {
  }
  delete x;
}

}  // extern "C"
