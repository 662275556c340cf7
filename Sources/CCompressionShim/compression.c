#include "ccompression.h"

#include <snappy-c.h>
#include <limits.h>
#include <stdio.h>
#include <zlib.h>
#include <zstd.h>

int ccompression_snappy(const uint8_t *data, size_t size, uint8_t *out, size_t expected,
                        char *error, size_t error_size) {
    size_t length = 0;
    // The block states its own length first; check it against the page header before decoding.
    if (snappy_uncompressed_length((const char *)data, size, &length) != SNAPPY_OK) {
        snprintf(error, error_size, "corrupt Snappy block (no valid length prefix)");
        return 1;
    }
    if (length != expected) {
        snprintf(error, error_size, "Snappy block holds %zu bytes, the page header says %zu", length, expected);
        return 1;
    }
    if (snappy_validate_compressed_buffer((const char *)data, size) != SNAPPY_OK ||
        snappy_uncompress((const char *)data, size, (char *)out, &length) != SNAPPY_OK || length != expected) {
        snprintf(error, error_size, "corrupt Snappy block");
        return 1;
    }
    return 0;
}

int ccompression_zstd(const uint8_t *data, size_t size, uint8_t *out, size_t expected,
                      char *error, size_t error_size) {
    size_t written = ZSTD_decompress(out, expected, data, size);
    if (ZSTD_isError(written)) {
        snprintf(error, error_size, "corrupt Zstandard frame (%s)", ZSTD_getErrorName(written));
        return 1;
    }
    if (written != expected) {
        snprintf(error, error_size, "Zstandard frame holds %zu bytes, the page header says %zu", written, expected);
        return 1;
    }
    return 0;
}

int ccompression_inflate(const uint8_t *data, size_t size, uint8_t *out, size_t expected,
                         char *error, size_t error_size) {
    if (size > UINT_MAX || expected > UINT_MAX) {
        snprintf(error, error_size, "deflate stream of %zu bytes (to %zu) is too large", size, expected);
        return 1;
    }
    z_stream stream = {0};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {  // raw deflate: no zlib or gzip header
        snprintf(error, error_size, "cannot start zlib's inflate");
        return 1;
    }
    stream.next_in = (Bytef *)data;
    stream.avail_in = (uInt)size;
    stream.next_out = out;
    stream.avail_out = (uInt)expected;
    int status = inflate(&stream, Z_FINISH);
    size_t written = expected - stream.avail_out;
    inflateEnd(&stream);
    if (status == Z_BUF_ERROR || status == Z_OK) {
        snprintf(error, error_size, "deflate stream holds more than the %zu bytes its entry states", expected);
        return 1;
    }
    if (status != Z_STREAM_END) {
        snprintf(error, error_size, "corrupt deflate stream (zlib status %d)", status);
        return 1;
    }
    if (written != expected) {
        snprintf(error, error_size, "deflate stream holds %zu bytes, its entry says %zu", written, expected);
        return 1;
    }
    return 0;
}
