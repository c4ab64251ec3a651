#include "avsl/viz/colormap.h"

#include <array>
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace avsl::viz {
namespace {

// The 256 entries are taken from OpenCV itself once, so the colours are exactly cv::applyColorMap's.
const std::array<Rgb, 256>& JetTable() {
  static const std::array<Rgb, 256> table = [] {
    cv::Mat ramp(1, 256, CV_8UC1);
    for (int i = 0; i < 256; ++i) ramp.at<uint8_t>(0, i) = static_cast<uint8_t>(i);
    cv::Mat bgr;
    cv::applyColorMap(ramp, bgr, cv::COLORMAP_JET);
    std::array<Rgb, 256> t{};
    for (int i = 0; i < 256; ++i) {
      const cv::Vec3b c = bgr.at<cv::Vec3b>(0, i);
      t[i] = Rgb{c[2], c[1], c[0]};
    }
    return t;
  }();
  return table;
}

}  // namespace

Rgb JetColor(uint8_t level) { return JetTable()[level]; }

uint8_t Quantize01(double v) {
  if (!(v > 0)) return 0;  // also NaN
  if (v >= 1) return 255;
  return static_cast<uint8_t>(std::lround(v * 255.0));
}

data::RgbImage JetHeatmap(const Map2D& map01) {
  data::RgbImage out;
  out.height = map01.height;
  out.width = map01.width;
  out.pixels.resize(map01.values.size() * 3);
  for (size_t i = 0; i < map01.values.size(); ++i) {
    const Rgb c = JetColor(Quantize01(map01.values[i]));
    out.pixels[3 * i] = c.r;
    out.pixels[3 * i + 1] = c.g;
    out.pixels[3 * i + 2] = c.b;
  }
  return out;
}

}  // namespace avsl::viz
