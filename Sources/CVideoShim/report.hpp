// The one-line error every fallible cvideo.h function fills in (video.cpp and decode.cpp).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

inline void report(char *error, size_t size, const std::string &message) {
  if (error && size > 0) std::snprintf(error, size, "%s", message.c_str());
}
