// PNG through libpng, with the transformations OpenCV's imgcodecs applies for an 8-bit colour read (16-bit samples
// stripped to their high byte, alpha dropped, palette and grey expanded to RGB) and the settings of its writer at
// IMWRITE_PNG_COMPRESSION = level, so the pixels match what avsl read and wrote through OpenCV before. Linking
// libpng instead of libopencv_imgcodecs keeps avsl off that library's dependencies (GDAL, GDCM, OpenEXR, ... about
// two hundred shared libraries on Debian 12), which no machine without Debian 12's runtime has: the GPU bundle
// (docs/gpu.md) could not carry them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/data/image_transform.h"
#include "pixel_rows.h"

namespace avsl::data {

/// Decodes PNG bytes to 8-bit RGB. Errors name `name` and say what libpng found wrong.
absl::StatusOr<RgbImage> DecodePng(const std::vector<uint8_t>& bytes, const std::string& name);

/// PNG bytes of `rows` (RGB or BGR), zlib level `level` (0-9). Errors name `name`.
absl::StatusOr<std::vector<uint8_t>> EncodePng(const PixelRows& rows, int level, const std::string& name);

}  // namespace avsl::data
