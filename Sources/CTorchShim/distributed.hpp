// The process-group handle, shared by the translation units that run collectives on it
// (distributed.cpp, gradient_exchange.cpp). Never included from Swift.
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>

struct ctorch_process_group_s {
  c10::intrusive_ptr<c10d::Backend> backend;
  int world_size;
  // Gloo has no native average: it is a sum followed by a division on this side.
  bool native_average;
};
