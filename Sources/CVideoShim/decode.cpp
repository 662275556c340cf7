// Reading videos behind cvideo.h, with FFmpeg's own API rather than OpenCV's VideoCapture.
// OpenCV 4.6 converts each decoded frame at the size the stream's header declares; a damaged
// stream whose frames are smaller than that made it read past FFmpeg's frame buffer (a heap
// over-read found by fuzzing, and frames of whatever memory followed). Here every frame is
// converted at its own size, a size that changes within the video is an error, and the
// conversion is OpenCV's (swscale, bicubic, to 8-bit RGB), so valid videos give OpenCV's pixels.
#include "cvideo.h"
#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

namespace {

// Larger frames are refused before FFmpeg allocates them: 4096 × 4096 is beyond any world
// model's data, and a few bytes of header may declare any size.
constexpr int64_t kMaxPixels = 4096LL * 4096LL;

class Decoder {
 public:
  std::string error;
  int width = 0, height = 0;  // the first frame's; every frame must have them

  ~Decoder() {
    sws_freeContext(scaler_);
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&codec_);
    avformat_close_input(&format_);
  }

  bool open(const char *path) {
    av_log_set_level(AV_LOG_QUIET);  // damaged input is reported once, by us
    if (avformat_open_input(&format_, path, nullptr, nullptr) < 0) return fail("FFmpeg cannot open the video");
    if (avformat_find_stream_info(format_, nullptr) < 0) return fail("FFmpeg cannot read the video's streams");
    const AVCodec *decoder = nullptr;
    stream_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (stream_ < 0 || !decoder) return fail("the file has no video stream FFmpeg can decode");
    codec_ = avcodec_alloc_context3(decoder);
    packet_ = av_packet_alloc();
    frame_ = av_frame_alloc();
    if (!codec_ || !packet_ || !frame_) return fail("out of memory for the decoder");
    if (avcodec_parameters_to_context(codec_, format_->streams[stream_]->codecpar) < 0) return fail("bad stream parameters");
    codec_->max_pixels = kMaxPixels;
    codec_->thread_count = 0;  // as many as FFmpeg likes, as OpenCV asks
    if (avcodec_open2(codec_, decoder, nullptr) < 0) return fail("FFmpeg cannot open the video's decoder");
    return true;
  }

  // The next frame, converted to RGB into `rgb` when given: 1, or 0 at the end, -1 on error.
  int next(std::vector<uint8_t> *rgb) {
    while (true) {
      int received = avcodec_receive_frame(codec_, frame_);
      if (received == 0) {
        failures_ = 0;
        return take(rgb);
      }
      if (received == AVERROR_EOF) return 0;
      if (received != AVERROR(EAGAIN)) {
        // A frame that does not decode is skipped, as OpenCV skips it; a decoder that keeps
        // failing is not waited on forever.
        if (++failures_ > 64) {
          fail("FFmpeg cannot decode the video");
          return -1;
        }
        continue;
      }
      if (flushing_) return 0;
      if (av_read_frame(format_, packet_) < 0) {
        flushing_ = true;
        avcodec_send_packet(codec_, nullptr);
        continue;
      }
      // A packet that does not decode is skipped, as OpenCV skips it: the frames that do are
      // the video's frames.
      if (packet_->stream_index == stream_) avcodec_send_packet(codec_, packet_);
      av_packet_unref(packet_);
    }
  }

 private:
  AVFormatContext *format_ = nullptr;
  AVCodecContext *codec_ = nullptr;
  SwsContext *scaler_ = nullptr;
  AVPacket *packet_ = nullptr;
  AVFrame *frame_ = nullptr;
  int stream_ = -1;
  bool flushing_ = false;
  std::vector<uint8_t> padded_;
  int failures_ = 0;

  bool fail(const std::string &why) {
    error = why;
    return false;
  }

  int take(std::vector<uint8_t> *rgb) {
    int w = frame_->width, h = frame_->height;
    if (w <= 0 || h <= 0 || int64_t(w) * h > kMaxPixels) {
      av_frame_unref(frame_);
      fail("a frame of " + std::to_string(w) + "×" + std::to_string(h) + " pixels (at most 4096×4096 are read)");
      return -1;
    }
    if (width == 0) {
      width = w;
      height = h;
    } else if (w != width || h != height) {
      av_frame_unref(frame_);
      fail("the frame size changes within the video");
      return -1;
    }
    if (rgb) {
      scaler_ = sws_getCachedContext(scaler_, w, h, AVPixelFormat(frame_->format), w, h, AV_PIX_FMT_RGB24, SWS_BICUBIC,
                                     nullptr, nullptr, nullptr);
      if (!scaler_) {
        av_frame_unref(frame_);
        fail("the video's pixel format cannot be converted to RGB");
        return -1;
      }
      // swscale writes whole SIMD blocks: it gets rows padded to 64 bytes, with 64 bytes to
      // spare after the last, and the packed rows are copied out.
      int stride = (3 * w + 63) & ~63;
      padded_.resize(size_t(stride) * size_t(h) + 64);
      uint8_t *planes[1] = {padded_.data()};
      int strides[1] = {stride};
      sws_scale(scaler_, frame_->data, frame_->linesize, 0, h, planes, strides);
      rgb->resize(size_t(w) * size_t(h) * 3);
      for (int row = 0; row < h; ++row) {
        std::memcpy(rgb->data() + size_t(row) * size_t(3 * w), padded_.data() + size_t(row) * size_t(stride), size_t(3 * w));
      }
    }
    av_frame_unref(frame_);
    return 1;
  }
};

}  // namespace

extern "C" int cvideo_probe(const char *path, int *frames, int *width, int *height, char *error, size_t error_size) {
  Decoder decoder;
  if (!decoder.open(path)) { report(error, error_size, decoder.error); return 1; }
  int count = 0, status;
  while ((status = decoder.next(nullptr)) == 1) ++count;
  if (status < 0) { report(error, error_size, decoder.error); return 1; }
  if (count == 0) { report(error, error_size, "the video has no decodable frames"); return 1; }
  *frames = count;
  *width = decoder.width;
  *height = decoder.height;
  return 0;
}

extern "C" int cvideo_read_frames(const char *path, const int64_t *indices, int count, uint8_t **rgb, int *width,
                                  int *height, int64_t *available, char *error, size_t error_size) {
  *rgb = nullptr;
  *available = 0;
  if (count <= 0) { report(error, error_size, "no frames asked for"); return 1; }
  int64_t last = 0;
  for (int i = 0; i < count; ++i) {
    if (indices[i] < 0) { report(error, error_size, "a frame index is negative"); return 1; }
    last = std::max(last, indices[i]);
  }
  Decoder decoder;
  if (!decoder.open(path)) { report(error, error_size, decoder.error); return 1; }
  std::vector<uint8_t> frame;
  uint8_t *out = nullptr;
  size_t frame_bytes = 0;
  int64_t decoded = 0;
  int status = 1;
  // Decode sequentially: seeking can land on the wrong frame in some streams, counting cannot.
  for (; decoded <= last && (status = decoder.next(&frame)) == 1; ++decoded) {
    if (!out) {
      frame_bytes = frame.size();
      out = static_cast<uint8_t *>(std::malloc(frame_bytes * static_cast<size_t>(count)));
      if (!out) { report(error, error_size, "out of memory for the frames"); return 1; }
    }
    for (int i = 0; i < count; ++i) {
      if (indices[i] == decoded) std::memcpy(out + frame_bytes * i, frame.data(), frame_bytes);
    }
  }
  if (status < 0) {
    std::free(out);
    report(error, error_size, decoder.error);
    return 1;
  }
  if (decoded <= last) {
    std::free(out);
    *available = decoded;
    report(error, error_size, "the video ends before the frames asked for");
    return 2;
  }
  *rgb = out;
  *width = decoder.width;
  *height = decoder.height;
  return 0;
}
