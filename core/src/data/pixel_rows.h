// The pixels an image encoder takes (jpeg_codec.h, png_codec.h): 8-bit interleaved rows of an avsl RgbImage or of an
// OpenCV BGR matrix, so neither needs a converted copy; and the one consistency check of an RgbImage, which the
// encoders and viz's drawing share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "avsl/data/image_transform.h"

namespace avsl::data {

/// `height` rows of `width` 3-byte pixels, `stride` bytes from one row to the next, in RGB or BGR order.
struct PixelRows {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t stride = 0;
  bool bgr = false;
};

/// The rows of `image` (RGB, packed), for an image CheckRgbImage accepts.
inline PixelRows RowsOf(const RgbImage& image) {
  return {image.pixels.data(), image.width, image.height, static_cast<size_t>(image.width) * 3, /*bgr=*/false};
}

/// OK when `image` has positive dimensions and height·width·3 pixel bytes; otherwise InvalidArgument naming `what`
/// and the inconsistent sizes.
inline absl::Status CheckRgbImage(const RgbImage& image, const std::string& what) {
  if (image.height <= 0 || image.width <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.height) * image.width * 3) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": image is ", image.width, "x", image.height, " with ",
                                                   image.pixels.size(), " bytes, expected width·height·3 > 0"));
  }
  return absl::OkStatus();
}

/// InvalidArgument naming `what` when `rows` holds no image.
inline absl::Status CheckPixelRows(const PixelRows& rows, const std::string& what) {
  if (rows.data != nullptr && rows.width > 0 && rows.height > 0 && rows.stride >= static_cast<size_t>(rows.width) * 3) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": no ", rows.width, "x", rows.height, " image to encode"));
}

}  // namespace avsl::data
