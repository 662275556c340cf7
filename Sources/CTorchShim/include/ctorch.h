/*
 * ctorch.h — the flat C API over libtorch that SwiftTorch is written on.
 *
 * Rules of this boundary:
 *  - Handles are opaque. Every handle a call hands out is owned by the caller and is
 *    released with its matching *_free function exactly once.
 *  - No C++ exception crosses this header. Every call that reaches into libtorch returns
 *    0 on success and a non-zero status on failure; ctorch_last_error() then holds
 *    libtorch's message for the calling thread until that thread's next failing call.
 *    That includes metadata getters and runtime knobs: libtorch throws from them too (an
 *    undefined tensor, at::set_num_threads(0)). The only calls without a status are total:
 *    ctorch_last_error, ctorch_torch_version, the *_free functions (destructors do not
 *    throw) and ctorch_cuda_device_count (no usable CUDA means zero devices).
 *  - A NULL tensor handle where a tensor is required is reported, not dereferenced.
 *  - Operations are selected by the named enums below, never by bare integers.
 *  - Results come back through out-parameters; arrays of results go into caller-owned
 *    buffers whose capacity the caller states.
 *  - No model logic lives here: only libtorch operations, one call each.
 */
#ifndef CTORCH_H
#define CTORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ctorch_tensor_s *ctorch_tensor;
typedef struct ctorch_generator_s *ctorch_generator;

/* A Python-like scalar: floating uses f, integer uses i, boolean is i != 0. */
typedef enum { CTORCH_SCALAR_FLOAT, CTORCH_SCALAR_INT, CTORCH_SCALAR_BOOL } ctorch_scalar_kind;
typedef struct {
  double f;
  int64_t i;
  ctorch_scalar_kind kind;
} ctorch_scalar;

/* Element types use c10::ScalarType's numbering. dtype and device_type are values passed
   through to libtorch (with -1 meaning "keep" where stated), not operation selectors. */
enum {
  CTORCH_U8 = 0, CTORCH_I8 = 1, CTORCH_I16 = 2, CTORCH_I32 = 3, CTORCH_I64 = 4,
  CTORCH_F16 = 5, CTORCH_F32 = 6, CTORCH_F64 = 7, CTORCH_BOOL = 11, CTORCH_BF16 = 15
};

/* Device kinds use c10::DeviceType's numbering. */
enum { CTORCH_CPU = 0, CTORCH_CUDA = 1, CTORCH_META = 14 };

/* ---- errors and runtime ------------------------------------------------------------ */
const char *ctorch_last_error(void);
const char *ctorch_torch_version(void);  /* the libtorch version the shim was compiled against */
int ctorch_cuda_device_count(void);
int ctorch_cuda_is_built(void); /* 1 when this libtorch has CUDA (total, like the count) */
int ctorch_cuda_synchronize(int device_index);
int ctorch_set_num_threads(int n); /* libtorch refuses n <= 0 */
int ctorch_get_num_threads(int *out);
/* torch.set_float32_matmul_precision(name); the getter's 0, 1, 2 are highest, high, medium */
int ctorch_set_float32_matmul_precision(const char *name);
int ctorch_get_float32_matmul_precision(int *out);

/* ---- lifecycle and metadata -------------------------------------------------------- */
void ctorch_tensor_free(ctorch_tensor t);
int ctorch_tensor_alias(ctorch_tensor t, ctorch_tensor *out); /* new handle, same tensor */
int ctorch_tensor_dim(ctorch_tensor t, int64_t *out);
/* out has `capacity` slots; fails unless capacity >= dim */
int ctorch_tensor_sizes(ctorch_tensor t, int64_t *out, int64_t capacity);
int ctorch_tensor_strides(ctorch_tensor t, int64_t *out, int64_t capacity);
int ctorch_tensor_numel(ctorch_tensor t, int64_t *out);
int ctorch_tensor_dtype(ctorch_tensor t, int *out);
int ctorch_tensor_device(ctorch_tensor t, int *type, int *index);
int ctorch_tensor_is_contiguous(ctorch_tensor t, bool *out);
int ctorch_tensor_storage_offset(ctorch_tensor t, int64_t *out);
int ctorch_tensor_data_ptr(ctorch_tensor t, void **out);

/* Copies `nbytes` bytes of a dense, row-major buffer into a new CPU tensor. */
int ctorch_tensor_from_bytes(const void *data, const int64_t *sizes, int ndim, int dtype,
                             ctorch_tensor *out);
/* Copies the tensor's values (row-major, its own dtype) into `dst`; moves to CPU as needed. */
int ctorch_tensor_to_bytes(ctorch_tensor t, void *dst, size_t nbytes);
int ctorch_tensor_item(ctorch_tensor t, ctorch_scalar *out);

/* ---- creation ------------------------------------------------------------------------ */
typedef enum { CTORCH_FILL_EMPTY, CTORCH_FILL_ZEROS, CTORCH_FILL_ONES } ctorch_fill_op;
int ctorch_filled(ctorch_fill_op op, const int64_t *sizes, int ndim, int dtype, int device_type,
                  int device_index, ctorch_tensor *out);
int ctorch_full(const int64_t *sizes, int ndim, ctorch_scalar value, int dtype,
                int device_type, int device_index, ctorch_tensor *out);
int ctorch_arange(ctorch_scalar start, ctorch_scalar end, ctorch_scalar step, int dtype,
                  int device_type, int device_index, ctorch_tensor *out);
int ctorch_linspace(double start, double end, int64_t steps, int dtype, int device_type,
                    int device_index, ctorch_tensor *out);
/* The distributions random sampling draws from: rand/uniform_ and randn/normal_. */
typedef enum { CTORCH_DIST_UNIFORM, CTORCH_DIST_NORMAL } ctorch_distribution;
/* U[0, 1) or N(0, 1); gen may be NULL for the default generator of the device */
int ctorch_random(ctorch_distribution dist, const int64_t *sizes, int ndim, int dtype, int device_type,
                  int device_index, ctorch_generator gen, ctorch_tensor *out);
int ctorch_randint(int64_t low, int64_t high, const int64_t *sizes, int ndim, int dtype,
                   int device_type, int device_index, ctorch_generator gen, ctorch_tensor *out);
int ctorch_randperm(int64_t n, int dtype, int device_type, int device_index,
                    ctorch_generator gen, ctorch_tensor *out);
/* In place: uniform_(low a, high b) or normal_(mean a, std b) */
int ctorch_random_(ctorch_distribution dist, ctorch_tensor t, double a, double b, ctorch_generator gen);

/* ---- random generators --------------------------------------------------------------- */
int ctorch_manual_seed(uint64_t seed); /* every device's default generator, like torch.manual_seed */
/* A new generator of a CPU or CUDA device (libtorch has no meta generator). */
int ctorch_generator_new(uint64_t seed, int device_type, int device_index, ctorch_generator *out);
/* A reference to a CPU or CUDA device's default generator (the one a NULL gen draws from and
   ctorch_manual_seed seeds); freeing it leaves the default in place. */
int ctorch_generator_default(int device_type, int device_index, ctorch_generator *out);
void ctorch_generator_free(ctorch_generator g);
/* gen NULL = default CPU generator. The state is a uint8 tensor, as torch.get_rng_state(). */
int ctorch_generator_get_state(ctorch_generator g, ctorch_tensor *out);
int ctorch_generator_set_state(ctorch_generator g, ctorch_tensor state);
int ctorch_generator_seed(ctorch_generator g, uint64_t *out);

/* ---- elementwise ------------------------------------------------------------------------ */
typedef enum {
  CTORCH_NEG, CTORCH_ABS, CTORCH_EXP, CTORCH_LOG, CTORCH_SQRT, CTORCH_RSQRT, CTORCH_SIN,
  CTORCH_COS, CTORCH_TANH, CTORCH_SIGMOID, CTORCH_SILU, CTORCH_GELU, CTORCH_GELU_TANH,
  CTORCH_RELU, CTORCH_FLOOR, CTORCH_CEIL, CTORCH_ROUND, CTORCH_SIGN, CTORCH_RECIPROCAL,
  CTORCH_SQUARE, CTORCH_LOG1P, CTORCH_EXPM1, CTORCH_ERF, CTORCH_LOGICAL_NOT, CTORCH_ISNAN,
  CTORCH_ISINF, CTORCH_ISFINITE, CTORCH_TRUNC, CTORCH_LOG2, CTORCH_LOG10, CTORCH_ATAN,
  CTORCH_ASIN, CTORCH_ACOS, CTORCH_TAN, CTORCH_SINH, CTORCH_COSH
} ctorch_unary_op;
int ctorch_unary(ctorch_unary_op op, ctorch_tensor t, ctorch_tensor *out);
int ctorch_unary_(ctorch_unary_op op, ctorch_tensor t);

typedef enum {
  CTORCH_ADD, CTORCH_SUB, CTORCH_MUL, CTORCH_DIV, CTORCH_POW, CTORCH_REMAINDER,
  CTORCH_MAXIMUM, CTORCH_MINIMUM, CTORCH_EQ, CTORCH_NE, CTORCH_LT, CTORCH_LE, CTORCH_GT,
  CTORCH_GE, CTORCH_LOGICAL_AND, CTORCH_LOGICAL_OR, CTORCH_LOGICAL_XOR, CTORCH_ATAN2,
  CTORCH_FLOOR_DIVIDE, CTORCH_RSUB
} ctorch_binary_op;
int ctorch_binary(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out);
int ctorch_binary_scalar(ctorch_binary_op op, ctorch_tensor a, ctorch_scalar b, ctorch_tensor *out);
int ctorch_binary_(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b);
int ctorch_binary_scalar_(ctorch_binary_op op, ctorch_tensor a, ctorch_scalar b);
/* has_min / has_max select which bounds apply */
int ctorch_clamp(ctorch_tensor t, bool has_min, double min, bool has_max, double max,
                 ctorch_tensor *out);
int ctorch_clamp_(ctorch_tensor t, bool has_min, double min, bool has_max, double max);
int ctorch_where(ctorch_tensor cond, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out);
int ctorch_masked_fill(ctorch_tensor t, ctorch_tensor mask, ctorch_scalar value,
                       ctorch_tensor *out);
int ctorch_lerp_(ctorch_tensor t, ctorch_tensor end, double weight);
int ctorch_addcmul_(ctorch_tensor t, ctorch_tensor a, ctorch_tensor b, double value);
int ctorch_addcdiv_(ctorch_tensor t, ctorch_tensor a, ctorch_tensor b, double value);
int ctorch_fill_(ctorch_tensor t, ctorch_scalar value);
int ctorch_copy_(ctorch_tensor dst, ctorch_tensor src);

/* ---- reductions ------------------------------------------------------------------------- */
typedef enum {
  CTORCH_SUM, CTORCH_MEAN, CTORCH_AMAX, CTORCH_AMIN, CTORCH_PROD, CTORCH_ALL, CTORCH_ANY,
  CTORCH_LOGSUMEXP
} ctorch_reduce_op;
/* ndims < 0 reduces over every dimension */
int ctorch_reduce(ctorch_reduce_op op, ctorch_tensor t, const int64_t *dims, int ndims, bool keepdim,
                  ctorch_tensor *out);
int ctorch_var(ctorch_tensor t, const int64_t *dims, int ndims, double correction,
               bool keepdim, bool take_sqrt, ctorch_tensor *out);
int ctorch_vector_norm(ctorch_tensor t, double ord, const int64_t *dims, int ndims,
                       bool keepdim, ctorch_tensor *out);
typedef enum { CTORCH_EXTREME_MAX, CTORCH_EXTREME_MIN } ctorch_extreme;
/* values and indices of the max or min along one dimension */
int ctorch_extreme_dim(ctorch_extreme which, ctorch_tensor t, int64_t dim, bool keepdim,
                       ctorch_tensor *values, ctorch_tensor *indices);
/* argmax or argmin; has_dim false = over the flattened tensor */
int ctorch_arg_extreme(ctorch_extreme which, ctorch_tensor t, bool has_dim, int64_t dim, bool keepdim,
                       ctorch_tensor *out);
int ctorch_cumsum(ctorch_tensor t, int64_t dim, ctorch_tensor *out);

/* ---- shape and indexing ---------------------------------------------------------------- */
int ctorch_reshape(ctorch_tensor t, const int64_t *sizes, int ndim, ctorch_tensor *out);
int ctorch_view(ctorch_tensor t, const int64_t *sizes, int ndim, ctorch_tensor *out);
/* A view with explicit geometry over t's storage (torch.as_strided). */
int ctorch_as_strided(ctorch_tensor t, const int64_t *sizes, const int64_t *strides, int ndim,
                      int64_t storage_offset, ctorch_tensor *out);
int ctorch_expand(ctorch_tensor t, const int64_t *sizes, int ndim, ctorch_tensor *out);
int ctorch_repeat(ctorch_tensor t, const int64_t *sizes, int ndim, ctorch_tensor *out);
int ctorch_permute(ctorch_tensor t, const int64_t *dims, int ndim, ctorch_tensor *out);
int ctorch_flip(ctorch_tensor t, const int64_t *dims, int ndim, ctorch_tensor *out);
int ctorch_transpose(ctorch_tensor t, int64_t d0, int64_t d1, ctorch_tensor *out);
int ctorch_squeeze(ctorch_tensor t, bool has_dim, int64_t dim, ctorch_tensor *out);
int ctorch_unsqueeze(ctorch_tensor t, int64_t dim, ctorch_tensor *out);
int ctorch_flatten(ctorch_tensor t, int64_t start, int64_t end, ctorch_tensor *out);
int ctorch_contiguous(ctorch_tensor t, ctorch_tensor *out);
int ctorch_clone(ctorch_tensor t, ctorch_tensor *out);
int ctorch_cat(const ctorch_tensor *ts, int n, int64_t dim, ctorch_tensor *out);
int ctorch_stack(const ctorch_tensor *ts, int n, int64_t dim, ctorch_tensor *out);
/* Fills out[0..count) and sets *count; fails if more than `capacity` pieces result. */
int ctorch_chunk(ctorch_tensor t, int64_t chunks, int64_t dim, ctorch_tensor *out,
                 int capacity, int *count);
int ctorch_split_with_sizes(ctorch_tensor t, const int64_t *sizes, int n, int64_t dim,
                            ctorch_tensor *out);
/* start/end are clamped as Python slicing does; has_start/has_end false = open end */
int ctorch_slice(ctorch_tensor t, int64_t dim, bool has_start, int64_t start, bool has_end,
                 int64_t end, int64_t step, ctorch_tensor *out);
int ctorch_select(ctorch_tensor t, int64_t dim, int64_t index, ctorch_tensor *out);
int ctorch_narrow(ctorch_tensor t, int64_t dim, int64_t start, int64_t length,
                  ctorch_tensor *out);
int ctorch_index_select(ctorch_tensor t, int64_t dim, ctorch_tensor index, ctorch_tensor *out);
int ctorch_gather(ctorch_tensor t, int64_t dim, ctorch_tensor index, ctorch_tensor *out);
int ctorch_scatter(ctorch_tensor t, int64_t dim, ctorch_tensor index, ctorch_tensor src,
                   ctorch_tensor *out);
typedef enum { CTORCH_TRIANGLE_LOWER, CTORCH_TRIANGLE_UPPER } ctorch_triangle_part; /* tril, triu */
int ctorch_triangle(ctorch_triangle_part part, ctorch_tensor t, int64_t diagonal, ctorch_tensor *out);
int ctorch_roll(ctorch_tensor t, const int64_t *shifts, const int64_t *dims, int n,
                ctorch_tensor *out);
int ctorch_repeat_interleave(ctorch_tensor t, int64_t repeats, bool has_dim, int64_t dim,
                             ctorch_tensor *out);
/* constant padding, pads given as in torch.nn.functional.pad (last dimension first) */
int ctorch_pad(ctorch_tensor t, const int64_t *pads, int n, double value, ctorch_tensor *out);

/* ---- linear algebra and neural-network functions -------------------------------------- */
int ctorch_matmul(ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out);
int ctorch_linear(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b /* nullable */,
                  ctorch_tensor *out);
int ctorch_einsum(const char *equation, const ctorch_tensor *ts, int n, ctorch_tensor *out);
/* torch.linalg.svdvals: the singular values of a matrix (or a batch), descending. */
int ctorch_linalg_svdvals(ctorch_tensor a, ctorch_tensor *out);
/* dtype < 0 keeps the input's dtype */
int ctorch_softmax(ctorch_tensor t, int64_t dim, int dtype, bool log, ctorch_tensor *out);
int ctorch_layer_norm(ctorch_tensor x, const int64_t *shape, int ndim,
                      ctorch_tensor w /* nullable */, ctorch_tensor b /* nullable */,
                      double eps, ctorch_tensor *out);
int ctorch_rms_norm(ctorch_tensor x, const int64_t *shape, int ndim,
                    ctorch_tensor w /* nullable */, bool has_eps, double eps,
                    ctorch_tensor *out);
int ctorch_group_norm(ctorch_tensor x, int64_t groups, ctorch_tensor w, ctorch_tensor b,
                      double eps, ctorch_tensor *out);
int ctorch_sdpa(ctorch_tensor q, ctorch_tensor k, ctorch_tensor v,
                ctorch_tensor mask /* nullable */, double dropout_p, bool is_causal,
                bool has_scale, double scale, bool enable_gqa, ctorch_tensor *out);
/* spatial = 1, 2 or 3; stride, padding, dilation each have `spatial` entries */
int ctorch_conv(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b /* nullable */, int spatial,
                const int64_t *stride, const int64_t *padding, const int64_t *dilation,
                int64_t groups, ctorch_tensor *out);
typedef enum {
  CTORCH_NEAREST, CTORCH_NEAREST_EXACT, CTORCH_LINEAR, CTORCH_BILINEAR, CTORCH_BICUBIC,
  CTORCH_TRILINEAR, CTORCH_AREA
} ctorch_interpolate_mode;
/* sizes: the output's spatial sizes; scales (nullable) as passed by F.interpolate when the
   caller gave a scale factor. align_corners < 0 = not given. */
int ctorch_interpolate(ctorch_tensor x, ctorch_interpolate_mode mode, const int64_t *sizes, int n,
                       const double *scales, int align_corners, ctorch_tensor *out);
int ctorch_dropout(ctorch_tensor x, double p, bool train, ctorch_tensor *out);
int ctorch_embedding(ctorch_tensor weight, ctorch_tensor indices, ctorch_tensor *out);

/* ---- dtype and device ------------------------------------------------------------------ */
/* dtype < 0 keeps the dtype; device_type < 0 keeps the device */
int ctorch_to(ctorch_tensor t, int dtype, int device_type, int device_index, bool copy,
              ctorch_tensor *out);

/* ---- autograd ---------------------------------------------------------------------------- */
int ctorch_set_requires_grad(ctorch_tensor t, bool requires_grad);
int ctorch_requires_grad(ctorch_tensor t, bool *out);
int ctorch_backward(ctorch_tensor t, ctorch_tensor grad /* nullable */, bool retain_graph,
                    bool create_graph);
/* *out is NULL when the tensor has no gradient */
int ctorch_grad(ctorch_tensor t, ctorch_tensor *out);
int ctorch_set_grad(ctorch_tensor t, ctorch_tensor grad /* nullable: drop the gradient */);
int ctorch_detach(ctorch_tensor t, ctorch_tensor *out);
int ctorch_detach_(ctorch_tensor t);
int ctorch_is_grad_enabled(bool *out);
int ctorch_set_grad_enabled(bool enabled);

/* ---- autocast (thread-local, as torch.autocast) ---------------------------------------- */
/* device_type must be one autocast supports (cpu, cuda, ...); others are reported. */
int ctorch_autocast_is_enabled(int device_type, bool *out);
int ctorch_autocast_set_enabled(int device_type, bool enabled);
int ctorch_autocast_get_dtype(int device_type, int *out);
int ctorch_autocast_set_dtype(int device_type, int dtype);
int ctorch_autocast_enter(int *depth); /* *depth: the new nesting depth */
int ctorch_autocast_exit(int *depth);  /* clears the cast cache when the outermost scope ends */

/* ---- TorchScript --------------------------------------------------------------------------
 * A scripted or traced module saved by torch.jit.save, and the values its methods take and
 * return (c10::IValue). Values are built and read one level at a time; containers own copies
 * of their elements, so every handle is freed independently. */
typedef struct ctorch_module_s *ctorch_module;
typedef struct ctorch_value_s *ctorch_value;

typedef enum {
  CTORCH_VALUE_NONE, CTORCH_VALUE_BOOL, CTORCH_VALUE_INT, CTORCH_VALUE_DOUBLE, CTORCH_VALUE_STRING,
  CTORCH_VALUE_TENSOR, CTORCH_VALUE_TUPLE, CTORCH_VALUE_LIST, CTORCH_VALUE_DICT, CTORCH_VALUE_OTHER
} ctorch_value_kind;

/* device_type < 0 loads onto the devices recorded in the file */
int ctorch_module_load(const char *path, int device_type, int device_index, ctorch_module *out);
void ctorch_module_free(ctorch_module m);
/* The bytes of each named record of a torch archive (names without the archive's folder), read
   and inflated by libtorch's own reader, in malloc'd buffers for ctorch_bytes_free (also
   those filled before a failure) */
int ctorch_archive_records(const char *path, const char *const *records, int count, uint8_t **data, size_t *sizes);
void ctorch_bytes_free(void *bytes);
int ctorch_module_set_training(ctorch_module m, bool training);
/* dtype < 0 keeps the dtype; device_type < 0 keeps the device */
int ctorch_module_to(ctorch_module m, int dtype, int device_type, int device_index);
int ctorch_module_has_method(ctorch_module m, const char *name, bool *out);
/* Runs a method with positional arguments and keyword arguments (kw_names[i] = kw_values[i]). */
int ctorch_module_run(ctorch_module m, const char *method, const ctorch_value *args, int nargs,
                      const char *const *kw_names, const ctorch_value *kw_values, int nkw,
                      ctorch_value *out);
/* Named parameters (buffers = false) or buffers (true), recursively, as a dict str -> tensor
   in the module's order. The tensors share storage with the module. */
int ctorch_module_named_tensors(ctorch_module m, bool buffers, ctorch_value *out);
/* Copies `value` into the parameter or buffer at dotted path `name` (shapes must match). */
int ctorch_module_set_tensor(ctorch_module m, const char *name, ctorch_tensor value);
/* An attribute at a dotted path (e.g. a float the exporter stored on the module). */
int ctorch_module_attribute(ctorch_module m, const char *name, ctorch_value *out);

int ctorch_value_none(ctorch_value *out);
int ctorch_value_bool(bool v, ctorch_value *out);
int ctorch_value_int(int64_t v, ctorch_value *out);
int ctorch_value_double(double v, ctorch_value *out);
int ctorch_value_string(const char *v, ctorch_value *out);
int ctorch_value_tensor(ctorch_tensor t, ctorch_value *out);
/* kind: CTORCH_VALUE_TUPLE or CTORCH_VALUE_LIST (a list of tensors becomes a Tensor[]) */
int ctorch_value_sequence(ctorch_value_kind kind, const ctorch_value *items, int n, ctorch_value *out);
/* a dict whose keys are all strings, ints or tensors */
int ctorch_value_dict(const ctorch_value *keys, const ctorch_value *values, int n, ctorch_value *out);
void ctorch_value_free(ctorch_value v);
int ctorch_value_kind_of(ctorch_value v, ctorch_value_kind *out);
int ctorch_value_to_bool(ctorch_value v, bool *out);
int ctorch_value_to_int(ctorch_value v, int64_t *out);
int ctorch_value_to_double(ctorch_value v, double *out);
/* Copies at most `capacity` bytes (no terminator) and reports the string's full length. */
int ctorch_value_to_string(ctorch_value v, char *buffer, size_t capacity, size_t *length);
int ctorch_value_to_tensor(ctorch_value v, ctorch_tensor *out);
/* Element count of a tuple, list or dict */
int ctorch_value_count(ctorch_value v, int64_t *out);
/* Element i of a tuple or list; for a dict, key (want_key) or value of entry i */
int ctorch_value_element(ctorch_value v, int64_t i, bool want_key, ctorch_value *out);

/* ---- distributed: c10d stores and process groups (distributed.cpp) ------------------- */
/* Collectives are synchronous and in place unless stated; a timeout or a lost peer is a
   failing status whose message is libtorch's. timeout_ms bounds each call. */
typedef struct ctorch_store_s *ctorch_store;
typedef struct ctorch_process_group_s *ctorch_process_group;
typedef enum { CTORCH_BACKEND_GLOO = 0, CTORCH_BACKEND_NCCL = 1 } ctorch_dist_backend;
typedef enum {
  CTORCH_COLLECTIVE_SUM = 0, CTORCH_COLLECTIVE_AVG = 1, CTORCH_COLLECTIVE_MAX = 2, CTORCH_COLLECTIVE_MIN = 3
} ctorch_collective_op;
bool ctorch_dist_backend_available(ctorch_dist_backend backend); /* total */
/* Linux: this process receives `signal_number` when its parent (the launcher) dies
   (prctl PR_SET_PDEATHSIG); returns false where that is unsupported. Total. */
bool ctorch_dist_die_with_parent(int signal_number);
/* A TCPStore client (and the server when is_server) at host:port, its keys under `prefix`. */
int ctorch_store_tcp(const char *host, int port, int world_size, bool is_server, int64_t timeout_ms,
                     const char *prefix, ctorch_store *out);
void ctorch_store_free(ctorch_store s);
int ctorch_store_set(ctorch_store s, const char *key, const char *value);
int ctorch_store_check(ctorch_store s, const char *key, bool *out); /* does the key exist (no wait) */
/* Waits for the key (up to the store's timeout); copies at most capacity bytes, reports the length. */
int ctorch_store_get(ctorch_store s, const char *key, char *buffer, size_t capacity, size_t *length);
int ctorch_process_group_new(ctorch_store s, int rank, int world_size, ctorch_dist_backend backend,
                             int64_t timeout_ms, ctorch_process_group *out);
void ctorch_process_group_free(ctorch_process_group pg);
int ctorch_process_group_allreduce(ctorch_process_group pg, ctorch_tensor t, ctorch_collective_op op,
                                   int64_t timeout_ms);
int ctorch_process_group_broadcast(ctorch_process_group pg, ctorch_tensor t, int root, int64_t timeout_ms);
/* Every rank's `t`, stacked: [world_size, ...t's shape] (a new tensor). */
int ctorch_process_group_allgather(ctorch_process_group pg, ctorch_tensor t, int64_t timeout_ms,
                                   ctorch_tensor *out);
int ctorch_process_group_barrier(ctorch_process_group pg, int64_t timeout_ms);

/* ---- gradient averaging overlapped with backward (gradient_exchange.cpp) --------------- */
/* Hooks on `parameters` (leaves that require grad) launch each bucket's allreduce as soon as
   its gradients have accumulated, during the backward pass after `arm`; `launch_rest` then
   launches the buckets that never became ready (reporting how many the backward pass launched,
   and how many collectives are launched in all, also when it fails), and `wait` waits for them
   (each up to timeout_ms) and leaves the averages in the gradients. bucket_of[i] is parameter i's bucket; buckets launch in index
   order. `free` removes the hooks. */
typedef struct ctorch_gradient_exchange_s *ctorch_gradient_exchange;
int ctorch_gradient_exchange_new(ctorch_process_group pg, const ctorch_tensor *parameters, const int *bucket_of,
                                 int count, int64_t timeout_ms, ctorch_gradient_exchange *out);
int ctorch_gradient_exchange_arm(ctorch_gradient_exchange x);
int ctorch_gradient_exchange_launch_rest(ctorch_gradient_exchange x, int *early, int *collectives);
int ctorch_gradient_exchange_wait(ctorch_gradient_exchange x);
void ctorch_gradient_exchange_free(ctorch_gradient_exchange x);

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_H */
