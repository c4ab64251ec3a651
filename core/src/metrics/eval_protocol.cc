#include "avsl/metrics/eval_protocol.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/metrics/binarize.h"

namespace avsl::metrics {

const char* PredModeName(PredMode mode) { return mode == PredMode::kRelative ? "relative" : "absolute"; }

absl::StatusOr<PredMode> ParsePredMode(const std::string& name) {
  if (name == "relative") return PredMode::kRelative;
  if (name == "absolute") return PredMode::kAbsolute;
  return absl::InvalidArgumentError(absl::StrCat("pred_mode '", name, "': expected relative or absolute"));
}

std::string UpsampleName(const std::optional<UpsampleMode>& mode) {
  if (!mode.has_value()) return "none";
  switch (*mode) {
    case UpsampleMode::kNearest: return "nearest";
    case UpsampleMode::kBilinear: return "bilinear";
    case UpsampleMode::kBicubic: return "bicubic";
  }
  return "none";
}

absl::StatusOr<Map2D> ToEvalMap(Map2D native, const EvalProtocol& protocol, const std::string& key, double range_min,
                                double range_max) {
  const int size = protocol.eval_size;
  const bool resize = native.height != size || native.width != size;
  absl::StatusOr<Map2D> map = resize ? Map2D() : std::move(native);
  if (resize) {
    if (!protocol.upsample.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': map is ", native.height, "x", native.width,
                                                     ", expected ", size, "x", size,
                                                     " (pass an upsample mode to resize it)"));
    }
    const UpsampleMode mode = *protocol.upsample;
    map = Upsample(native, size, size, mode, mode != UpsampleMode::kNearest && protocol.align_corners);
    if (!map.ok()) return map.status();
  }
  if (std::isfinite(range_min) && std::isfinite(range_max) && range_max > range_min) {
    const double scale = 1.0 / (range_max - range_min);
    for (double& v : map->values) v = (v - range_min) * scale;
  }
  return map;
}

std::vector<uint8_t> BinaryPrediction(const Map2D& map, const EvalProtocol& protocol) {
  return protocol.pred_mode == PredMode::kRelative ? BinarizeTopKOfMinMax(map, protocol.topk_percent)
                                                   : BinarizeAtLeast(map, protocol.pred_threshold);
}

}  // namespace avsl::metrics
