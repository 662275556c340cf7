// Block decompression for the parquet reader, Snappy (libsnappy) and Zstandard (libzstd), and raw
// deflate (zlib) for compressed zip entries (np.savez_compressed), behind plain C calls. Both check sizes before writing, so hostile input yields a status, never a crash.
#ifndef CCOMPRESSION_H
#define CCOMPRESSION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decompresses a Snappy block of `size` bytes into `out`, which must hold exactly `expected`
/// bytes (parquet page headers state the uncompressed size). Returns 0 on success, non-zero
/// (and a message in `error`) when the block is corrupt or its size is not `expected`.
int ccompression_snappy(const uint8_t *data, size_t size, uint8_t *out, size_t expected,
                        char *error, size_t error_size);

/// The same for a Zstandard frame.
int ccompression_zstd(const uint8_t *data, size_t size, uint8_t *out, size_t expected,
                      char *error, size_t error_size);

/// The same for a raw deflate stream (a zip entry of method 8).
int ccompression_inflate(const uint8_t *data, size_t size, uint8_t *out, size_t expected,
                         char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
