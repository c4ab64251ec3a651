#include "avsl/viz/png_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/io/atomic_file.h"
#include "avsl/viz/canvas.h"

namespace avsl::viz {

absl::StatusOr<std::vector<uint8_t>> EncodePng(const data::RgbImage& image, const std::string& name) {
  AVSL_RETURN_IF_ERROR(CheckImage(image, absl::StrCat("png ", name)));
  const cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uint8_t> bytes;
  try {
    if (!cv::imencode(".png", bgr, bytes, {cv::IMWRITE_PNG_COMPRESSION, 9})) {
      return absl::InternalError(absl::StrCat("png ", name, ": OpenCV could not encode the image"));
    }
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("png ", name, ": OpenCV could not encode the image: ", e.what()));
  }
  return bytes;
}

absl::Status WritePng(const std::string& path, const data::RgbImage& image) {
  AVSL_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, EncodePng(image, path));
  absl::Status written = io::WriteFileAtomically(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!written.ok()) return absl::Status(written.code(), absl::StrCat("png ", path, ": ", written.message()));
  return absl::OkStatus();
}

}  // namespace avsl::viz
