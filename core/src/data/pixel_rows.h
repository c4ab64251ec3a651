// The pixels an image encoder takes (jpeg_codec.h, png_codec.h): 8-bit interleaved rows of an avsl RgbImage or of an
// OpenCV BGR matrix, so neither needs a converted copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace avsl::data {

/// `height` rows of `width` 3-byte pixels, `stride` bytes from one row to the next, in RGB or BGR order.
struct PixelRows {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t stride = 0;
  bool bgr = false;
};

/// InvalidArgument naming `what` when `rows` holds no image.
inline absl::Status CheckPixelRows(const PixelRows& rows, const std::string& what) {
  if (rows.data != nullptr && rows.width > 0 && rows.height > 0 && rows.stride >= static_cast<size_t>(rows.width) * 3) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": no ", rows.width, "x", rows.height, " image to encode"));
}

}  // namespace avsl::data
