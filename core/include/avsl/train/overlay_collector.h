// Keeps the first few evaluated samples (sounding, plus a quarter as many silent ones) and renders their
// heatmap overlays once the evaluation knows each sample's cIoU.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "avsl/core/dataset.h"
#include "avsl/core/map2d.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/viz/overlay.h"

namespace avsl::train {

class OverlayCollector {
 public:
  /// `count` sounding samples (0 = none) and count/4 silent ones; `norm` undoes the image normalization.
  OverlayCollector(int count, viz::OverlayOptions options, data::Normalization norm = {});

  /// Offer one evaluated sample with its eval-grid map and confidence; kept while there is room.
  void Add(const Sample& sample, const Map2D& map, double conf);
  /// Writes <dir>/<key>.png for every kept sample and returns the paths.
  absl::StatusOr<std::vector<std::string>> Write(const std::string& dir, const metrics::EvalResult& result) const;

 private:
  struct Kept {
    std::string key;
    data::RgbImage frame;
    Map2D map, gt;
    double conf = 0;
    bool sounding = true;
  };
  int sounding_left_, silent_left_;
  viz::OverlayOptions options_;
  data::Normalization norm_;
  std::vector<Kept> kept_;
};

}  // namespace avsl::train
