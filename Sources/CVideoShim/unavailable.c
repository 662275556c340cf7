// The portable build's CVideoShim (NANOWM_PORTABLE=1, made by scripts/bundle for machines that may
// lack Debian's OpenCV and FFmpeg): every call but PNG encoding fails with one line saying so,
// and nothing links those libraries. A normal build compiles video.cpp and decode.cpp instead and this file is empty.
#ifdef NANOWM_PORTABLE
#include "cvideo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int unavailable(const char *what, char *error, size_t error_size) {
  if (error && error_size > 0)
    snprintf(error, error_size, "%s needs OpenCV and FFmpeg, which this portable nanowm leaves out: "
             "run it with a full build (scripts/setup and swift build)", what);
  return 1;
}

cvideo_writer_t cvideo_writer_open(const char *path, const char *fourcc, double fps, int width, int height,
                                   char *error, size_t error_size) {
  (void)path; (void)fourcc; (void)fps; (void)width; (void)height;
  unavailable("writing videos", error, error_size);
  return NULL;
}
int cvideo_writer_write(cvideo_writer_t writer, const uint8_t *rgb, char *error, size_t error_size) {
  (void)writer; (void)rgb;
  return unavailable("writing videos", error, error_size);
}
void cvideo_writer_close(cvideo_writer_t writer) { (void)writer; }
int cvideo_probe(const char *path, int *frames, int *width, int *height, char *error, size_t error_size) {
  (void)path; (void)frames; (void)width; (void)height;
  return unavailable("reading videos", error, error_size);
}
int cvideo_read_frames(const char *path, const int64_t *indices, int count, uint8_t **rgb, int *width, int *height,
                       int64_t *available, char *error, size_t error_size) {
  (void)path; (void)indices; (void)count; (void)rgb; (void)width; (void)height; (void)available;
  return unavailable("reading videos", error, error_size);
}
// PNGs stay available, written with zlib (which the bundle carries), so training's TensorBoard
// images work: 8-bit RGB, no row filters, one IDAT chunk. The bytes differ from OpenCV's
// encoder; the pixels are the same.
static void put32(uint8_t *at, uint32_t value) {
  at[0] = (uint8_t)(value >> 24); at[1] = (uint8_t)(value >> 16); at[2] = (uint8_t)(value >> 8); at[3] = (uint8_t)value;
}
static uint8_t *put_chunk(uint8_t *at, const char type[4], const uint8_t *data, uint32_t length) {
  put32(at, length);
  memcpy(at + 4, type, 4);
  if (length && data != at + 8) memcpy(at + 8, data, length);
  put32(at + 8 + length, (uint32_t)crc32(0, at + 4, length + 4));
  return at + 12 + length;
}
int cvideo_encode_png(const uint8_t *rgb, int width, int height, uint8_t **png, size_t *png_size,
                      char *error, size_t error_size) {
  if (width <= 0 || height <= 0 || width > 1 << 14 || height > 1 << 14) {
    snprintf(error, error_size, "cannot encode a %dx%d PNG", width, height);
    return 1;
  }
  size_t row = (size_t)width * 3 + 1, raw_size = row * (size_t)height;
  uint8_t *raw = malloc(raw_size);
  uLongf packed_size = compressBound(raw_size);
  uint8_t *out = malloc(8 + 25 + 12 + packed_size + 12);
  if (!raw || !out) {
    free(raw); free(out);
    snprintf(error, error_size, "out of memory encoding a %dx%d PNG", width, height);
    return 1;
  }
  for (int y = 0; y < height; y++) {
    raw[row * (size_t)y] = 0;
    memcpy(raw + row * (size_t)y + 1, rgb + (size_t)width * 3 * (size_t)y, (size_t)width * 3);
  }
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  memcpy(out, signature, 8);
  uint8_t header[13] = {0};
  put32(header, (uint32_t)width);
  put32(header + 4, (uint32_t)height);
  header[8] = 8;  // bits per sample
  header[9] = 2;  // RGB
  uint8_t *at = put_chunk(out + 8, "IHDR", header, 13);
  if (compress2(at + 8, &packed_size, raw, raw_size, 6) != Z_OK) {
    free(raw); free(out);
    snprintf(error, error_size, "zlib failed to compress a %dx%d PNG", width, height);
    return 1;
  }
  free(raw);
  // The compressed bytes already sit where the IDAT chunk's data goes.
  at = put_chunk(at, "IDAT", at + 8, (uint32_t)packed_size);
  at = put_chunk(at, "IEND", NULL, 0);
  *png = out;
  *png_size = (size_t)(at - out);
  return 0;
}
int cvideo_resize(const uint8_t *rgb, int width, int height, uint8_t *out, int out_width, int out_height,
                  int interpolation, char *error, size_t error_size) {
  (void)rgb; (void)width; (void)height; (void)out; (void)out_width; (void)out_height; (void)interpolation;
  return unavailable("resizing images", error, error_size);
}
int cvideo_apply_colormap(const uint8_t *levels, int count, int map, uint8_t *out, char *error, size_t error_size) {
  (void)levels; (void)count; (void)map; (void)out;
  return unavailable("colour maps", error, error_size);
}
int cvideo_draw_line(uint8_t *rgb, int width, int height, int x0, int y0, int x1, int y1,
                     uint8_t r, uint8_t g, uint8_t b, int thickness, char *error, size_t error_size) {
  (void)rgb; (void)width; (void)height; (void)x0; (void)y0; (void)x1; (void)y1; (void)r; (void)g; (void)b; (void)thickness;
  return unavailable("drawing", error, error_size);
}
int cvideo_fill_rect(uint8_t *rgb, int width, int height, int x, int y, int rect_width, int rect_height,
                     uint8_t r, uint8_t g, uint8_t b, char *error, size_t error_size) {
  (void)rgb; (void)width; (void)height; (void)x; (void)y; (void)rect_width; (void)rect_height; (void)r; (void)g; (void)b;
  return unavailable("drawing", error, error_size);
}
int cvideo_draw_text(uint8_t *rgb, int width, int height, const char *text, int x, int y, double scale,
                     uint8_t r, uint8_t g, uint8_t b, int thickness, char *error, size_t error_size) {
  (void)rgb; (void)width; (void)height; (void)text; (void)x; (void)y; (void)scale; (void)r; (void)g; (void)b; (void)thickness;
  return unavailable("drawing", error, error_size);
}
void cvideo_text_size(const char *text, double scale, int thickness, int *text_width, int *above) {
  (void)text; (void)scale; (void)thickness;
  if (text_width) *text_width = 0;
  if (above) *above = 0;
}
int cvideo_available(void) { return 0; }
void cvideo_free(void *buffer) { free(buffer); }
#else
typedef int cvideo_full_build;
#endif
