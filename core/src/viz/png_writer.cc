#include "avsl/viz/png_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/io/atomic_file.h"
#include "avsl/viz/canvas.h"
#include "data/png_codec.h"

namespace avsl::viz {

absl::StatusOr<std::vector<uint8_t>> EncodePng(const data::RgbImage& image, const std::string& name) {
  AVSL_RETURN_IF_ERROR(CheckImage(image, absl::StrCat("png ", name)));
  return data::EncodePng(data::RowsOf(image), /*level=*/9, name);
}

absl::Status WritePng(const std::string& path, const data::RgbImage& image) {
  AVSL_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, EncodePng(image, path));
  absl::Status written = io::WriteFileAtomically(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!written.ok()) return absl::Status(written.code(), absl::StrCat("png ", path, ": ", written.message()));
  return absl::OkStatus();
}

}  // namespace avsl::viz
