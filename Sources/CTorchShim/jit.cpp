// TorchScript: loading modules saved by torch.jit.save, running their methods, reading and
// overwriting their parameters, and the values (c10::IValue) that cross in and out.
#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "shim.hpp"

struct ctorch_module_s {
  torch::jit::Module module;
};

struct ctorch_value_s {
  c10::IValue value;
};

using ctorch::T;

namespace {

ctorch_value wrap_value(c10::IValue v) { return new ctorch_value_s{std::move(v)}; }

// Handles are read through M() and V(), so a NULL handle is a reported error, as with T().
torch::jit::Module &M(ctorch_module h) {
  TORCH_CHECK(h != nullptr, "a NULL module handle was passed where a TorchScript module is required");
  return h->module;
}

const c10::IValue &V(ctorch_value h) {
  TORCH_CHECK(h != nullptr, "a NULL value handle was passed where a TorchScript value is required");
  return h->value;
}

std::vector<std::string> dotted(const std::string &path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// The submodule that owns the last part of a dotted path, and that last part.
std::pair<torch::jit::Module, std::string> owner_of(const torch::jit::Module &root, const std::string &path) {
  auto parts = dotted(path);
  torch::jit::Module owner = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    TORCH_CHECK(owner.hasattr(parts[i]), "the module has no submodule '", parts[i], "' (in '", path, "')");
    auto child = owner.attr(parts[i]);
    TORCH_CHECK(child.isModule(), "'", parts[i], "' in '", path, "' is not a submodule");
    owner = child.toModule();
  }
  return {owner, parts.back()};
}

// The element type a TorchScript list or dict needs for these values: their common type
// (so [1, 2] is a List[int] that a `List[int]` argument accepts), any tensor counting as Tensor.
c10::TypePtr common_type(const std::vector<c10::IValue> &items) {
  c10::TypePtr type;
  for (const auto &item : items) {
    c10::TypePtr t = item.isTensor() ? c10::TensorType::get() : item.type();
    if (!type) {
      type = t;
      continue;
    }
    auto unified = c10::unifyTypes(type, t);
    TORCH_CHECK(unified.has_value(), "a TorchScript list or dict cannot mix ", type->repr_str(), " and ",
                t->repr_str());
    type = *unified;
  }
  return type ? type : c10::TensorType::get();
}

std::vector<c10::IValue> values(const ctorch_value *items, int n) {
  std::vector<c10::IValue> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(V(items[i]));
  return out;
}

}  // namespace

extern "C" {

int ctorch_module_load(const char *path, int device_type, int device_index, ctorch_module *out) {
  GUARD({
    std::optional<at::Device> device;
    if (device_type >= 0) {
      device = at::Device(static_cast<at::DeviceType>(device_type), static_cast<c10::DeviceIndex>(device_index));
    }
    *out = new ctorch_module_s{torch::jit::load(path, device)};
  })
}

int ctorch_archive_records(const char *path, const char *const *records, int count, uint8_t **data, size_t *sizes) {
  for (int i = 0; i < count; ++i) data[i] = nullptr;
  GUARD({
    // libtorch is built with miniz's CRC checks off, so a damaged record reaches its parsers
    // (and crashed them under fuzzing); the records are read (and inflated) by its own reader
    // here, for the caller to compare their checksums with the zip directory's.
    caffe2::serialize::PyTorchStreamReader reader(std::string{path});
    for (int i = 0; i < count; ++i) {
      auto [record, size] = reader.getRecord(records[i]);
      data[i] = static_cast<uint8_t *>(std::malloc(size > 0 ? size : 1));
      if (!data[i]) throw std::bad_alloc();
      if (size > 0) std::memcpy(data[i], record.get(), size);
      sizes[i] = size;
    }
  })
}

void ctorch_bytes_free(void *bytes) { std::free(bytes); }

void ctorch_module_free(ctorch_module m) { delete m; }

int ctorch_module_set_training(ctorch_module m, bool training) { GUARD(M(m).train(training)) }

int ctorch_module_to(ctorch_module m, int dtype, int device_type, int device_index) {
  GUARD({
    if (device_type >= 0) {
      at::Device device(static_cast<at::DeviceType>(device_type), static_cast<c10::DeviceIndex>(device_index));
      if (dtype >= 0) {
        M(m).to(device, static_cast<at::ScalarType>(dtype));
      } else {
        M(m).to(device);
      }
    } else if (dtype >= 0) {
      M(m).to(static_cast<at::ScalarType>(dtype));
    }
  })
}

int ctorch_module_has_method(ctorch_module m, const char *name, bool *out) {
  GUARD(*out = M(m).find_method(name).has_value())
}

int ctorch_module_run(ctorch_module m, const char *method, const ctorch_value *args, int nargs,
                      const char *const *kw_names, const ctorch_value *kw_values, int nkw,
                      ctorch_value *out) {
  GUARD({
    auto found = M(m).find_method(method);
    TORCH_CHECK(found.has_value(), "the TorchScript module has no method '", method, "'");
    torch::jit::Kwargs kwargs;
    for (int i = 0; i < nkw; ++i) kwargs[kw_names[i]] = V(kw_values[i]);
    *out = wrap_value((*found)(values(args, nargs), kwargs));
  })
}

int ctorch_module_named_tensors(ctorch_module m, bool buffers, ctorch_value *out) {
  GUARD({
    c10::Dict<std::string, at::Tensor> dict;
    if (buffers) {
      for (const auto &item : M(m).named_buffers(true)) dict.insert(item.name, item.value);
    } else {
      for (const auto &item : M(m).named_parameters(true)) dict.insert(item.name, item.value);
    }
    *out = wrap_value(c10::IValue(dict));
  })
}

int ctorch_module_set_tensor(ctorch_module m, const char *name, ctorch_tensor value) {
  GUARD({
    auto [owner, leaf] = owner_of(M(m), name);
    TORCH_CHECK(owner.hasattr(leaf), "the module has no parameter or buffer '", name, "'");
    auto slot = owner.attr(leaf);
    TORCH_CHECK(slot.isTensor(), "'", name, "' is not a parameter or buffer");
    auto target = slot.toTensor();
    TORCH_CHECK(target.sizes() == T(value).sizes(), "'", name, "' has shape ", target.sizes(), ", the new value ",
                T(value).sizes());
    at::NoGradGuard no_grad;
    target.copy_(T(value));
  })
}

int ctorch_module_attribute(ctorch_module m, const char *name, ctorch_value *out) {
  GUARD({
    auto [owner, leaf] = owner_of(M(m), name);
    TORCH_CHECK(owner.hasattr(leaf), "the module has no attribute '", name, "'");
    *out = wrap_value(owner.attr(leaf));
  })
}

int ctorch_value_none(ctorch_value *out) { GUARD(*out = wrap_value(c10::IValue())) }
int ctorch_value_bool(bool v, ctorch_value *out) { GUARD(*out = wrap_value(c10::IValue(v))) }
int ctorch_value_int(int64_t v, ctorch_value *out) { GUARD(*out = wrap_value(c10::IValue(v))) }
int ctorch_value_double(double v, ctorch_value *out) { GUARD(*out = wrap_value(c10::IValue(v))) }
int ctorch_value_string(const char *v, ctorch_value *out) { GUARD(*out = wrap_value(c10::IValue(std::string(v)))) }
int ctorch_value_tensor(ctorch_tensor t, ctorch_value *out) { GUARD(*out = wrap_value(c10::IValue(T(t)))) }

int ctorch_value_sequence(ctorch_value_kind kind, const ctorch_value *items, int n, ctorch_value *out) {
  GUARD({
    auto elements = values(items, n);
    if (kind == CTORCH_VALUE_TUPLE) {
      *out = wrap_value(c10::ivalue::Tuple::create(std::move(elements)));
    } else {
      TORCH_CHECK(kind == CTORCH_VALUE_LIST, "a sequence is a tuple or a list");
      c10::impl::GenericList list(common_type(elements));
      for (auto &e : elements) list.push_back(std::move(e));
      *out = wrap_value(c10::IValue(list));
    }
  })
}

int ctorch_value_dict(const ctorch_value *keys, const ctorch_value *dict_values, int n, ctorch_value *out) {
  GUARD({
    auto k = values(keys, n), v = values(dict_values, n);
    c10::impl::GenericDict dict(common_type(k), common_type(v));
    for (int i = 0; i < n; ++i) dict.insert_or_assign(k[i], v[i]);
    *out = wrap_value(c10::IValue(dict));
  })
}

void ctorch_value_free(ctorch_value v) { delete v; }

int ctorch_value_kind_of(ctorch_value v, ctorch_value_kind *out) {
  GUARD({
    const auto &x = V(v);
    *out = x.isNone()     ? CTORCH_VALUE_NONE
           : x.isBool()   ? CTORCH_VALUE_BOOL
           : x.isInt()    ? CTORCH_VALUE_INT
           : x.isDouble() ? CTORCH_VALUE_DOUBLE
           : x.isString() ? CTORCH_VALUE_STRING
           : x.isTensor() ? CTORCH_VALUE_TENSOR
           : x.isTuple()  ? CTORCH_VALUE_TUPLE
           : x.isList()   ? CTORCH_VALUE_LIST
           : x.isGenericDict() ? CTORCH_VALUE_DICT
                               : CTORCH_VALUE_OTHER;
  })
}

int ctorch_value_to_bool(ctorch_value v, bool *out) { GUARD(*out = V(v).toBool()) }
int ctorch_value_to_int(ctorch_value v, int64_t *out) { GUARD(*out = V(v).toInt()) }
int ctorch_value_to_double(ctorch_value v, double *out) { GUARD(*out = V(v).toDouble()) }

int ctorch_value_to_string(ctorch_value v, char *buffer, size_t capacity, size_t *length) {
  GUARD({
    const auto &text = V(v).toStringRef();
    *length = text.size();
    if (buffer != nullptr && capacity > 0) std::memcpy(buffer, text.data(), std::min(capacity, text.size()));
  })
}

int ctorch_value_to_tensor(ctorch_value v, ctorch_tensor *out) { GUARD(*out = ctorch::wrap(V(v).toTensor())) }

int ctorch_value_count(ctorch_value v, int64_t *out) {
  GUARD({
    const auto &x = V(v);
    if (x.isTuple()) {
      *out = static_cast<int64_t>(x.toTupleRef().elements().size());
    } else if (x.isList()) {
      *out = static_cast<int64_t>(x.toListRef().size());
    } else {
      TORCH_CHECK(x.isGenericDict(), "a ", x.tagKind(), " has no elements");
      *out = static_cast<int64_t>(x.toGenericDict().size());
    }
  })
}

int ctorch_value_element(ctorch_value v, int64_t i, bool want_key, ctorch_value *out) {
  GUARD({
    const auto &x = V(v);
    int64_t count = 0;
    TORCH_CHECK(ctorch_value_count(v, &count) == 0, ctorch_last_error());
    TORCH_CHECK(i >= 0 && i < count, "element ", i, " of a ", x.tagKind(), " with ", count, " elements");
    if (x.isTuple()) {
      *out = wrap_value(x.toTupleRef().elements()[i]);
    } else if (x.isList()) {
      *out = wrap_value(x.toListRef()[i]);
    } else {
      auto entry = x.toGenericDict().begin();
      for (int64_t k = 0; k < i; ++k) ++entry;
      *out = wrap_value(want_key ? entry->key() : entry->value());
    }
  })
}

}  // extern "C"
