// A flat C API over the HDF5 C library (Debian libhdf5-dev, serial build) for reading whole
// datasets of recorded game play. HDF5's own error printing is switched off: failures return
// non-zero with HDF5's innermost message in `error`. The serial library is not thread-safe, so
// every call here holds one process-wide lock.
#ifndef CHDF5_H
#define CHDF5_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct chdf5_file *chdf5_file_t;

enum { CHDF5_OTHER = 0, CHDF5_UINT8 = 1, CHDF5_FLOAT32 = 2 };
enum { CHDF5_MAX_RANK = 8 };

/// Opens `path` read-only. Returns NULL and a message in `error` on failure.
chdf5_file_t chdf5_open(const char *path, char *error, size_t error_size);
/// Closes the file and frees the handle.
void chdf5_close(chdf5_file_t file);

/// The rank, dimensions (up to CHDF5_MAX_RANK) and element type (CHDF5_*) of dataset `name`.
/// Returns 0 on success, 2 when no such dataset exists, 1 on any other failure.
int chdf5_dataset_info(chdf5_file_t file, const char *name, int *rank, int64_t *dims, int *type,
                       char *error, size_t error_size);

/// Reads all of dataset `name` converted to `type` (CHDF5_UINT8 or CHDF5_FLOAT32) into `out` of
/// exactly `capacity` bytes (its element count times the element size). Returns 0 on success.
int chdf5_read(chdf5_file_t file, const char *name, int type, void *out, size_t capacity,
               char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
