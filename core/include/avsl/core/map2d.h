// A dense row-major 2-D map shared by the data layer (ground truth) and the metrics (predictions).
// Values are double so that float32 and float64 maps written by any tool are scored without rounding.
#pragma once

#include <cstddef>
#include <vector>

namespace avsl {

/// Row-major H×W map of doubles (a localization map or a ground-truth map).
struct Map2D {
  int height = 0;
  int width = 0;
  std::vector<double> values;  ///< size height * width, row-major.

  Map2D() = default;
  Map2D(int h, int w, double fill = 0.0)
      : height(h), width(w), values(static_cast<size_t>(h) * static_cast<size_t>(w), fill) {}

  double& at(int y, int x) { return values[static_cast<size_t>(y) * width + x]; }
  double at(int y, int x) const { return values[static_cast<size_t>(y) * width + x]; }
  size_t size() const { return values.size(); }
};

}  // namespace avsl
