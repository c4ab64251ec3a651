// JPEG through libjpeg(-turbo), the library OpenCV's imgcodecs uses, with its settings:
//   - decoding goes straight to RGB. OpenCV asks libjpeg for RGB, swaps it to BGR in a scalar loop, and the loader
//     then swapped it back: two extra passes over every frame, about a sixth of a training sample's cost at
//     480×360. Four-component (CMYK, YCCK) files are converted as OpenCV converts them.
//   - encoding is baseline JPEG at the given quality, libjpeg's defaults otherwise, as cv::imencode(".jpg") writes it.
// data_preprocess_test compares both with OpenCV where the build has imgcodecs. avsl links libjpeg and libpng
// (png_codec.h) instead of libopencv_imgcodecs, whose dependencies no machine without Debian 12's runtime has.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/data/image_transform.h"
#include "pixel_rows.h"

namespace avsl::data {

/// Decodes JPEG bytes to 8-bit RGB. Errors name `name` and give libjpeg's reason.
absl::StatusOr<RgbImage> DecodeJpeg(const std::vector<uint8_t>& bytes, const std::string& name);

/// Baseline JPEG bytes of `rows` at `quality` (1-100). Errors name `name`.
absl::StatusOr<std::vector<uint8_t>> EncodeJpegBytes(const PixelRows& rows, int quality, const std::string& name);

}  // namespace avsl::data
