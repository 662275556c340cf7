// OpenCV video writing, PNG encoding, resizing and drawing behind cvideo.h (reading is in
// decode.cpp).
#include "cvideo.h"
#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

struct cvideo_writer {
  cv::VideoWriter writer;
  int width;
  int height;
};

extern "C" cvideo_writer_t cvideo_writer_open(const char *path, const char *fourcc, double fps, int width, int height,
                                              char *error, size_t error_size) {
  try {
    if (std::strlen(fourcc) != 4) { report(error, error_size, "fourcc must have four characters"); return nullptr; }
    auto *w = new cvideo_writer{cv::VideoWriter(), width, height};
    int code = cv::VideoWriter::fourcc(fourcc[0], fourcc[1], fourcc[2], fourcc[3]);
    if (!w->writer.open(path, cv::CAP_FFMPEG, code, fps, cv::Size(width, height), true)) {
      delete w;
      report(error, error_size, "OpenCV could not open the video for writing (no FFmpeg backend or codec?)");
      return nullptr;
    }
    return w;
  } catch (const std::exception &e) {
    report(error, error_size, e.what());
    return nullptr;
  }
}

extern "C" int cvideo_writer_write(cvideo_writer_t w, const uint8_t *rgb, char *error, size_t error_size) {
  try {
    cv::Mat frame(w->height, w->width, CV_8UC3, const_cast<uint8_t *>(rgb));
    cv::Mat bgr;
    cv::cvtColor(frame, bgr, cv::COLOR_RGB2BGR);
    w->writer.write(bgr);
    return 0;
  } catch (const std::exception &e) {
    report(error, error_size, e.what());
    return 1;
  }
}

extern "C" void cvideo_writer_close(cvideo_writer_t w) {
  if (!w) return;
  try { w->writer.release(); } catch (...) {}
  delete w;
}

extern "C" int cvideo_encode_png(const uint8_t *rgb, int width, int height, uint8_t **png, size_t *png_size,
                                 char *error, size_t error_size) {
  try {
    *png = nullptr;
    *png_size = 0;
    if (width <= 0 || height <= 0) { report(error, error_size, "a PNG needs at least one pixel"); return 1; }
    cv::Mat frame(height, width, CV_8UC3, const_cast<uint8_t *>(rgb));
    cv::Mat bgr;  // OpenCV's images are BGR
    cv::cvtColor(frame, bgr, cv::COLOR_RGB2BGR);
    std::vector<uint8_t> bytes;
    if (!cv::imencode(".png", bgr, bytes)) { report(error, error_size, "OpenCV could not encode the PNG"); return 1; }
    auto *out = static_cast<uint8_t *>(std::malloc(bytes.size()));
    if (!out) { report(error, error_size, "out of memory for the PNG"); return 1; }
    std::memcpy(out, bytes.data(), bytes.size());
    *png = out;
    *png_size = bytes.size();
    return 0;
  } catch (const std::exception &e) {
    report(error, error_size, e.what());
    return 1;
  }
}

extern "C" int cvideo_resize(const uint8_t *rgb, int width, int height, uint8_t *out, int out_width,
                             int out_height, int interpolation, char *error, size_t error_size) {
  try {
    if (width <= 0 || height <= 0 || out_width <= 0 || out_height <= 0) {
      report(error, error_size, "a resize needs at least one pixel on each side");
      return 1;
    }
    if (interpolation != cv::INTER_LINEAR && interpolation != cv::INTER_CUBIC && interpolation != cv::INTER_AREA) {
      report(error, error_size, "unknown interpolation");
      return 1;
    }
    cv::Mat source(height, width, CV_8UC3, const_cast<uint8_t *>(rgb));
    cv::Mat target(out_height, out_width, CV_8UC3, out);  // written in place, no copy
    cv::resize(source, target, cv::Size(out_width, out_height), 0, 0, interpolation);
    return 0;
  } catch (const std::exception &e) {
    report(error, error_size, e.what());
    return 1;
  }
}

extern "C" int cvideo_apply_colormap(const uint8_t *levels, int count, int map, uint8_t *out, char *error,
                                     size_t error_size) {
  try {
    if (count <= 0 || (map != cv::COLORMAP_VIRIDIS && map != cv::COLORMAP_TURBO)) {
      report(error, error_size, "a colour map needs levels and a known map");
      return 1;
    }
    cv::Mat grey(1, count, CV_8UC1, const_cast<uint8_t *>(levels));
    cv::Mat bgr;
    cv::applyColorMap(grey, bgr, map);
    cv::Mat rgb(1, count, CV_8UC3, out);  // written in place
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return 0;
  } catch (const std::exception &e) {
    report(error, error_size, e.what());
    return 1;
  }
}

namespace {
// RGB bytes drawn on in place: the channel order only matters for the colour given.
template <typename Draw> int draw(uint8_t *rgb, int width, int height, char *error, size_t error_size, Draw body) {
  try {
    if (width <= 0 || height <= 0) {
      report(error, error_size, "drawing needs an image of at least one pixel");
      return 1;
    }
    cv::Mat image(height, width, CV_8UC3, rgb);
    body(image);
    return 0;
  } catch (const std::exception &e) {
    report(error, error_size, e.what());
    return 1;
  }
}
}  // namespace

extern "C" int cvideo_draw_line(uint8_t *rgb, int width, int height, int x0, int y0, int x1, int y1, uint8_t r,
                                uint8_t g, uint8_t b, int thickness, char *error, size_t error_size) {
  return draw(rgb, width, height, error, error_size, [&](cv::Mat &image) {
    cv::line(image, cv::Point(x0, y0), cv::Point(x1, y1), cv::Scalar(r, g, b), thickness, cv::LINE_AA);
  });
}

extern "C" int cvideo_fill_rect(uint8_t *rgb, int width, int height, int x, int y, int rect_width, int rect_height,
                                uint8_t r, uint8_t g, uint8_t b, char *error, size_t error_size) {
  return draw(rgb, width, height, error, error_size, [&](cv::Mat &image) {
    cv::rectangle(image, cv::Rect(x, y, rect_width, rect_height), cv::Scalar(r, g, b), cv::FILLED);
  });
}

extern "C" int cvideo_draw_text(uint8_t *rgb, int width, int height, const char *text, int x, int y, double scale,
                                uint8_t r, uint8_t g, uint8_t b, int thickness, char *error, size_t error_size) {
  return draw(rgb, width, height, error, error_size, [&](cv::Mat &image) {
    cv::putText(image, text, cv::Point(x, y), cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(r, g, b), thickness,
                cv::LINE_AA);
  });
}

extern "C" int cvideo_available(void) { return 1; }

extern "C" void cvideo_text_size(const char *text, double scale, int thickness, int *text_width, int *above) {
  *text_width = 0;
  *above = 0;
  try {
    int baseline = 0;
    cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
    *text_width = size.width;
    *above = size.height;
  } catch (const std::exception &) {
    // Measuring cannot fail for text and a positive scale; a zero size only misplaces a label.
  }
}

extern "C" void cvideo_free(void *buffer) { std::free(buffer); }
