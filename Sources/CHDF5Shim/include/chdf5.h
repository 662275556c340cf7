// A flat C API over the HDF5 C library (Debian libhdf5-dev, serial build) for reading whole
// datasets of recorded game play.
//
// libhdf5 1.10 was not written for hostile files: fuzzing found damaged files on which it
// divides by zero or reads through NULL. So libhdf5 never runs in the calling process. The
// first call starts an HDF5 reader process (this same executable, run again from
// /proc/self/exe; a constructor in this library takes over before `main` would run), which
// forks a worker that runs libhdf5; every call below is one request to it over a socket. When
// libhdf5 crashes, the worker dies, the call fails with a message naming the signal, and the
// reader forks a new worker for the next call. Failures return non-zero with a one-line
// message in `error`. Calls are serialised by one process-wide lock.
#ifndef CHDF5_H
#define CHDF5_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct chdf5_file *chdf5_file_t;

enum { CHDF5_OTHER = 0, CHDF5_UINT8 = 1, CHDF5_FLOAT32 = 2 };
enum { CHDF5_MAX_RANK = 8 };

/// Opens `path` read-only. Returns NULL and a message in `error` on failure.
chdf5_file_t chdf5_open(const char *path, char *error, size_t error_size);
/// Closes the file (the reader keeps it open between requests until then) and frees the handle.
void chdf5_close(chdf5_file_t file);

/// The rank, dimensions (up to CHDF5_MAX_RANK) and element type (CHDF5_*) of dataset `name`.
/// Returns 0 on success, 2 when no such dataset exists, 1 on any other failure.
int chdf5_dataset_info(chdf5_file_t file, const char *name, int *rank, int64_t *dims, int *type,
                       char *error, size_t error_size);

/// Reads all of dataset `name` converted to `type` (CHDF5_UINT8 or CHDF5_FLOAT32) into `out` of
/// exactly `capacity` bytes (its element count times the element size, at most 256 MiB).
/// Returns 0 on success.
int chdf5_read(chdf5_file_t file, const char *name, int type, void *out, size_t capacity,
               char *error, size_t error_size);

/// The pid of the worker that answered the last request (the process running libhdf5), or 0
/// when there is none (for tests and the fuzz target, which check its memory).
pid_t chdf5_reader_pid(void);

#ifdef __cplusplus
}
#endif

#endif
