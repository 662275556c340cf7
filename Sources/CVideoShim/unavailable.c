// The portable build's CVideoShim (NANOWM_PORTABLE=1, made by scripts/bundle for machines that may
// lack Debian's OpenCV and FFmpeg): every call fails with one line saying so, and nothing links
// those libraries. A normal build compiles video.cpp and decode.cpp instead and this file is empty.
#ifdef NANOWM_PORTABLE
#include "cvideo.h"

#include <stdio.h>
#include <stdlib.h>

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
int cvideo_encode_png(const uint8_t *rgb, int width, int height, uint8_t **png, size_t *png_size,
                      char *error, size_t error_size) {
  (void)rgb; (void)width; (void)height; (void)png; (void)png_size;
  return unavailable("writing PNG images", error, error_size);
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
void cvideo_free(void *buffer) { free(buffer); }
#else
typedef int cvideo_full_build;
#endif
