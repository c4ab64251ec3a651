#include "avsl/viz/canvas.h"

#include <algorithm>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "data/pixel_rows.h"

namespace avsl::viz {
namespace {

// The buffer is RGB, so colours are passed to OpenCV in that order (OpenCV does not care about channel names).
cv::Mat AsMat(data::RgbImage* image) { return cv::Mat(image->height, image->width, CV_8UC3, image->pixels.data()); }

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

}  // namespace

data::RgbImage MakeCanvas(int height, int width, Rgb color) {
  data::RgbImage out;
  out.height = std::max(height, 0);
  out.width = std::max(width, 0);
  out.pixels.resize(static_cast<size_t>(out.height) * out.width * 3);
  for (size_t i = 0; i < out.pixels.size(); i += 3) {
    out.pixels[i] = color.r;
    out.pixels[i + 1] = color.g;
    out.pixels[i + 2] = color.b;
  }
  return out;
}

absl::Status CheckImage(const data::RgbImage& image, const std::string& what) {
  return data::CheckRgbImage(image, what);
}

Rgb PixelAt(const data::RgbImage& image, int y, int x) {
  const size_t i = (static_cast<size_t>(y) * image.width + x) * 3;
  return {image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]};
}

void FillRect(data::RgbImage* image, int x, int y, int w, int h, Rgb color) {
  const int x0 = std::max(x, 0), y0 = std::max(y, 0);
  const int x1 = std::min(x + w, image->width), y1 = std::min(y + h, image->height);
  for (int yy = y0; yy < y1; ++yy) {
    for (int xx = x0; xx < x1; ++xx) {
      uint8_t* p = &image->pixels[(static_cast<size_t>(yy) * image->width + xx) * 3];
      p[0] = color.r;
      p[1] = color.g;
      p[2] = color.b;
    }
  }
}

void Paste(data::RgbImage* canvas, const data::RgbImage& tile, int x, int y) {
  const int x0 = std::max(x, 0), y0 = std::max(y, 0);
  const int x1 = std::min(x + tile.width, canvas->width), y1 = std::min(y + tile.height, canvas->height);
  if (x1 <= x0) return;
  for (int yy = y0; yy < y1; ++yy) {
    const uint8_t* src = &tile.pixels[(static_cast<size_t>(yy - y) * tile.width + (x0 - x)) * 3];
    uint8_t* dst = &canvas->pixels[(static_cast<size_t>(yy) * canvas->width + x0) * 3];
    std::copy(src, src + static_cast<size_t>(x1 - x0) * 3, dst);
  }
}

int TextWidth(const std::string& text, double scale) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, scale, 1, &baseline).width;
}

std::string FitText(const std::string& text, int max_width, double scale) {
  if (TextWidth(text, scale) <= max_width) return text;
  // Binary search over the prefix length: the width of a prefix grows monotonically with its length.
  size_t lo = 0, hi = text.size();
  while (lo < hi) {
    const size_t mid = (lo + hi + 1) / 2;
    if (TextWidth(text.substr(0, mid) + "..", scale) <= max_width) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const std::string cut = text.substr(0, lo) + "..";
  return TextWidth(cut, scale) <= max_width ? cut : "";
}

void DrawText(data::RgbImage* image, const std::string& text, int x, int baseline_y, int max_width, double scale,
              Rgb color) {
  const std::string fitted = FitText(text, max_width, scale);
  if (fitted.empty() || image->pixels.empty()) return;
  cv::Mat m = AsMat(image);
  cv::putText(m, fitted, cv::Point(x, baseline_y), kFont, scale, cv::Scalar(color.r, color.g, color.b), 1, cv::LINE_AA);
}

}  // namespace avsl::viz
