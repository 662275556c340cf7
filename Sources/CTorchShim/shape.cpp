// Reductions, shape manipulation and indexing.
#include "shim.hpp"

using ctorch::T;
using ctorch::wrap;

namespace {

at::OptionalIntArrayRef dims_or_all(const int64_t *dims, int ndims) {
  if (ndims < 0) return std::nullopt;
  return ctorch::ints(dims, ndims);
}

at::Tensor reduce(ctorch_reduce_op op, const at::Tensor &x, const int64_t *dims, int ndims, bool keepdim) {
  auto d = dims_or_all(dims, ndims);
  auto all = ndims < 0;
  switch (op) {
    case CTORCH_SUM: return at::sum(x, d, keepdim);
    case CTORCH_MEAN: return at::mean(x, d, keepdim);
    case CTORCH_AMAX: return at::amax(x, all ? at::IntArrayRef{} : *d, keepdim);
    case CTORCH_AMIN: return at::amin(x, all ? at::IntArrayRef{} : *d, keepdim);
    case CTORCH_ALL: return all ? at::all(x) : at::all(x, *d, keepdim);
    case CTORCH_ANY: return all ? at::any(x) : at::any(x, *d, keepdim);
    case CTORCH_LOGSUMEXP: {
      std::vector<int64_t> every(static_cast<size_t>(x.dim()));
      for (size_t i = 0; i < every.size(); ++i) every[i] = static_cast<int64_t>(i);
      return at::logsumexp(x, all ? at::IntArrayRef(every) : *d, keepdim);
    }
    case CTORCH_PROD: {
      if (all) return at::prod(x);
      TORCH_CHECK(ndims == 1, "prod reduces over exactly one dimension");
      return at::prod(x, dims[0], keepdim);
    }
  }
  TORCH_CHECK(false, "unknown reduction ", static_cast<int>(op));
}

}  // namespace

extern "C" {

int ctorch_reduce(ctorch_reduce_op op, ctorch_tensor t, const int64_t *dims, int ndims, bool keepdim,
                  ctorch_tensor *out) {
  RETURN_TENSOR(reduce(op, T(t), dims, ndims, keepdim))
}

int ctorch_var(ctorch_tensor t, const int64_t *dims, int ndims, double correction,
               bool keepdim, bool take_sqrt, ctorch_tensor *out) {
  GUARD({
    auto d = dims_or_all(dims, ndims);
    at::Scalar c(correction);
    *out = wrap(take_sqrt ? at::std(T(t), d, c, keepdim) : at::var(T(t), d, c, keepdim));
  })
}

int ctorch_vector_norm(ctorch_tensor t, double ord, const int64_t *dims, int ndims,
                       bool keepdim, ctorch_tensor *out) {
  RETURN_TENSOR(at::linalg_vector_norm(T(t), ord, dims_or_all(dims, ndims), keepdim))
}

int ctorch_extreme_dim(ctorch_extreme which, ctorch_tensor t, int64_t dim, bool keepdim,
                       ctorch_tensor *values, ctorch_tensor *indices) {
  GUARD({
    auto result = which == CTORCH_EXTREME_MAX ? at::max(T(t), dim, keepdim)
                                              : at::min(T(t), dim, keepdim);
    *values = wrap(std::get<0>(result));
    *indices = wrap(std::get<1>(result));
  })
}

int ctorch_arg_extreme(ctorch_extreme which, ctorch_tensor t, bool has_dim, int64_t dim,
                       bool keepdim, ctorch_tensor *out) {
  GUARD({
    std::optional<int64_t> d = has_dim ? std::optional<int64_t>(dim) : std::nullopt;
    *out = wrap(which == CTORCH_EXTREME_MAX ? at::argmax(T(t), d, keepdim)
                                            : at::argmin(T(t), d, keepdim));
  })
}

int ctorch_cumsum(ctorch_tensor t, int64_t dim, ctorch_tensor *out) {
  RETURN_TENSOR(at::cumsum(T(t), dim))
}

int ctorch_reshape(ctorch_tensor t, const int64_t *sizes, int ndim, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).reshape(ctorch::ints(sizes, ndim)))
}

int ctorch_view(ctorch_tensor t, const int64_t *sizes, int ndim, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).view(ctorch::ints(sizes, ndim)))
}

int ctorch_as_strided(ctorch_tensor t, const int64_t *sizes, const int64_t *strides, int ndim,
                      int64_t storage_offset, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).as_strided(ctorch::ints(sizes, ndim), ctorch::ints(strides, ndim), storage_offset))
}

int ctorch_expand(ctorch_tensor t, const int64_t *sizes, int ndim, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).expand(ctorch::ints(sizes, ndim)))
}

int ctorch_repeat(ctorch_tensor t, const int64_t *sizes, int ndim, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).repeat(ctorch::ints(sizes, ndim)))
}

int ctorch_permute(ctorch_tensor t, const int64_t *dims, int ndim, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).permute(ctorch::ints(dims, ndim)))
}

int ctorch_flip(ctorch_tensor t, const int64_t *dims, int ndim, ctorch_tensor *out) {
  RETURN_TENSOR(at::flip(T(t), ctorch::ints(dims, ndim)))
}

int ctorch_transpose(ctorch_tensor t, int64_t d0, int64_t d1, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).transpose(d0, d1))
}

int ctorch_squeeze(ctorch_tensor t, bool has_dim, int64_t dim, ctorch_tensor *out) {
  RETURN_TENSOR(has_dim ? T(t).squeeze(dim) : T(t).squeeze())
}

int ctorch_unsqueeze(ctorch_tensor t, int64_t dim, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).unsqueeze(dim))
}

int ctorch_flatten(ctorch_tensor t, int64_t start, int64_t end, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).flatten(start, end))
}

int ctorch_contiguous(ctorch_tensor t, ctorch_tensor *out) { RETURN_TENSOR(T(t).contiguous()) }
int ctorch_clone(ctorch_tensor t, ctorch_tensor *out) { RETURN_TENSOR(T(t).clone()) }

int ctorch_cat(const ctorch_tensor *ts, int n, int64_t dim, ctorch_tensor *out) {
  RETURN_TENSOR(at::cat(ctorch::tensor_list(ts, n), dim))
}

int ctorch_stack(const ctorch_tensor *ts, int n, int64_t dim, ctorch_tensor *out) {
  RETURN_TENSOR(at::stack(ctorch::tensor_list(ts, n), dim))
}

int ctorch_chunk(ctorch_tensor t, int64_t chunks, int64_t dim, ctorch_tensor *out,
                 int capacity, int *count) {
  GUARD({
    auto pieces = T(t).chunk(chunks, dim);
    TORCH_CHECK(pieces.size() <= static_cast<size_t>(capacity), "chunk produced ",
                pieces.size(), " pieces, more than the ", capacity, " expected");
    for (size_t i = 0; i < pieces.size(); ++i) out[i] = wrap(pieces[i]);
    *count = static_cast<int>(pieces.size());
  })
}

int ctorch_split_with_sizes(ctorch_tensor t, const int64_t *sizes, int n, int64_t dim,
                            ctorch_tensor *out) {
  GUARD({
    auto pieces = T(t).split_with_sizes(ctorch::ints(sizes, n), dim);
    for (size_t i = 0; i < pieces.size(); ++i) out[i] = wrap(pieces[i]);
  })
}

int ctorch_slice(ctorch_tensor t, int64_t dim, bool has_start, int64_t start, bool has_end,
                 int64_t end, int64_t step, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).slice(dim, has_start ? std::optional<int64_t>(start) : std::nullopt,
                           has_end ? std::optional<int64_t>(end) : std::nullopt, step))
}

int ctorch_select(ctorch_tensor t, int64_t dim, int64_t index, ctorch_tensor *out) {
  RETURN_TENSOR(T(t).select(dim, index))
}

int ctorch_narrow(ctorch_tensor t, int64_t dim, int64_t start, int64_t length,
                  ctorch_tensor *out) {
  RETURN_TENSOR(T(t).narrow(dim, start, length))
}

int ctorch_index_select(ctorch_tensor t, int64_t dim, ctorch_tensor index, ctorch_tensor *out) {
  RETURN_TENSOR(at::index_select(T(t), dim, T(index)))
}

int ctorch_gather(ctorch_tensor t, int64_t dim, ctorch_tensor index, ctorch_tensor *out) {
  RETURN_TENSOR(at::gather(T(t), dim, T(index)))
}

int ctorch_scatter(ctorch_tensor t, int64_t dim, ctorch_tensor index, ctorch_tensor src,
                   ctorch_tensor *out) {
  RETURN_TENSOR(at::scatter(T(t), dim, T(index), T(src)))
}

int ctorch_triangle(ctorch_triangle_part part, ctorch_tensor t, int64_t diagonal,
                    ctorch_tensor *out) {
  RETURN_TENSOR(part == CTORCH_TRIANGLE_LOWER ? at::tril(T(t), diagonal)
                                              : at::triu(T(t), diagonal))
}

int ctorch_roll(ctorch_tensor t, const int64_t *shifts, const int64_t *dims, int n,
                ctorch_tensor *out) {
  RETURN_TENSOR(at::roll(T(t), ctorch::ints(shifts, n), ctorch::ints(dims, n)))
}

int ctorch_repeat_interleave(ctorch_tensor t, int64_t repeats, bool has_dim, int64_t dim,
                             ctorch_tensor *out) {
  RETURN_TENSOR(at::repeat_interleave(T(t), repeats,
                                      has_dim ? std::optional<int64_t>(dim) : std::nullopt))
}

int ctorch_pad(ctorch_tensor t, const int64_t *pads, int n, double value, ctorch_tensor *out) {
  RETURN_TENSOR(at::constant_pad_nd(T(t), ctorch::ints(pads, n), value))
}

}  // extern "C"
