// PNG output of the pictures. Files are written under a temporary name and renamed, so a reader (a report
// page, a notebook polling the directory) never sees half a picture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/data/image_transform.h"

namespace avsl::viz {

/// PNG bytes of `image` (8-bit RGB, maximum zlib compression: the pictures are small and written rarely).
/// `name` is used in error messages.
absl::StatusOr<std::vector<uint8_t>> EncodePng(const data::RgbImage& image, const std::string& name);

/// Encodes and writes `image` to `path` via `path`.tmp and a rename. Errors name `path`.
absl::Status WritePng(const std::string& path, const data::RgbImage& image);

}  // namespace avsl::viz
