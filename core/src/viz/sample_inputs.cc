#include "avsl/viz/sample_inputs.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/io/npy.h"

namespace avsl::viz {

absl::StatusOr<Map2D> LoadEvalMap(const std::string& maps_dir, const std::string& key,
                                  const eval::ScoreOptions& scoring) {
  const std::string path = (std::filesystem::path(maps_dir) / (key + ".npy")).string();
  absl::StatusOr<io::NpyArray> arr = io::ReadNpy(path);
  if (!arr.ok()) {
    return absl::Status(arr.status().code(), absl::StrCat("sample '", key, "': ", arr.status().message()));
  }
  return eval::NpyToEvalMap(*std::move(arr), key, path, scoring.protocol);
}

absl::StatusOr<data::RgbImage> LoadFrame(const std::string& frames_dir, const std::string& video) {
  if (frames_dir.empty()) return data::RgbImage{};
  return data::DecodeImageFile((std::filesystem::path(frames_dir) / (video + ".jpg")).string());
}

OverlayOptions OverlayOptionsFrom(const eval::ScoreOptions& scoring, OverlayOptions base) {
  base.protocol = scoring.protocol;
  return base;
}

}  // namespace avsl::viz
