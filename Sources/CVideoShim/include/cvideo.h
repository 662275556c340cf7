// A flat C API over OpenCV's video writer and reader, its PNG encoder and its drawing, for NanoWM's media output. Like
// CTorchShim, no C++ exception crosses it: failures return NULL or non-zero and fill `error`.
#ifndef CVIDEO_H
#define CVIDEO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cvideo_writer *cvideo_writer_t;

/// Opens `path` for RGB frames of `width`×`height` at `fps`, encoded with the four-character
/// code `fourcc` (e.g. "mp4v"). Returns NULL and a message in `error` on failure.
cvideo_writer_t cvideo_writer_open(const char *path, const char *fourcc, double fps, int width, int height,
                                   char *error, size_t error_size);
/// Appends one frame of `height`×`width`×3 RGB bytes. Returns 0 on success.
int cvideo_writer_write(cvideo_writer_t writer, const uint8_t *rgb, char *error, size_t error_size);
/// Finishes the file and frees the writer.
void cvideo_writer_close(cvideo_writer_t writer);

/// Decodes a whole video and reports its frame count and size. Returns 0 on success.
int cvideo_probe(const char *path, int *frames, int *width, int *height, char *error, size_t error_size);

/// Decodes frames `indices[0..<count]` (any order, repeats allowed) of a video as RGB bytes, in
/// the order asked, into a new buffer `*rgb` (free it with `cvideo_free`) of
/// `count`×`*height`×`*width`×3 bytes. Frames are counted in decoding order from 0. Returns 0 on
/// success; 2 when the video ends before the largest index (`*available` is then its frame
/// count); 1 for any other failure, with `error` filled.
int cvideo_read_frames(const char *path, const int64_t *indices, int count, uint8_t **rgb, int *width, int *height,
                       int64_t *available, char *error, size_t error_size);

/// Encodes `height`×`width`×3 RGB bytes as a PNG file's bytes (OpenCV's imgcodecs). Returns 0 and
/// a buffer in `*png` (free it with `cvideo_free`) of `*png_size` bytes, or non-zero and `error`.
int cvideo_encode_png(const uint8_t *rgb, int width, int height, uint8_t **png, size_t *png_size,
                      char *error, size_t error_size);
/// `cv::resize`'s interpolations, with OpenCV's numbers (`cv2.INTER_*`).
enum { CVIDEO_INTER_LINEAR = 1, CVIDEO_INTER_CUBIC = 2, CVIDEO_INTER_AREA = 3 };
/// Resizes `height`×`width`×3 RGB bytes to `out_height`×`out_width`×3 into `out` with OpenCV's
/// `cv::resize` and `interpolation` (one of CVIDEO_INTER_*), the call behind Python's
/// `cv2.resize`. Returns 0 on success.
int cvideo_resize(const uint8_t *rgb, int width, int height, uint8_t *out, int out_width, int out_height,
                  int interpolation, char *error, size_t error_size);
/// OpenCV's colour maps (`cv::applyColorMap`), with OpenCV's numbers.
enum { CVIDEO_COLORMAP_VIRIDIS = 16, CVIDEO_COLORMAP_TURBO = 20 };
/// Maps `count` grey levels to RGB bytes (`out`: 3 × count) through colour map `map`. Returns 0 on success.
int cvideo_apply_colormap(const uint8_t *levels, int count, int map, uint8_t *out, char *error, size_t error_size);
/// Draws on `height`×`width`×3 RGB bytes in place with OpenCV's drawing (anti-aliased): a line of
/// `thickness` pixels, a filled rectangle, or text in the Hershey simplex font whose baseline
/// starts at (`x`, `y`), `scale` times its 22-pixel base height. Return 0 on success.
int cvideo_draw_line(uint8_t *rgb, int width, int height, int x0, int y0, int x1, int y1,
                     uint8_t r, uint8_t g, uint8_t b, int thickness, char *error, size_t error_size);
int cvideo_fill_rect(uint8_t *rgb, int width, int height, int x, int y, int rect_width, int rect_height,
                     uint8_t r, uint8_t g, uint8_t b, char *error, size_t error_size);
int cvideo_draw_text(uint8_t *rgb, int width, int height, const char *text, int x, int y, double scale,
                     uint8_t r, uint8_t g, uint8_t b, int thickness, char *error, size_t error_size);
/// The size in pixels of `text` as `cvideo_draw_text` draws it (`*above`: above the baseline).
void cvideo_text_size(const char *text, double scale, int thickness, int *text_width, int *above);
/// 1 when this build reads and writes videos (OpenCV and FFmpeg are linked), 0 in the portable
/// build, whose other calls here then fail with a one-line message.
int cvideo_available(void);
/// Frees a buffer this API returned.
void cvideo_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif
