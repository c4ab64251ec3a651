// Drawing primitives on avsl::data::RgbImage shared by the overlay and grid renderers: blank canvases,
// pasting tiles, filled bars and Hershey text that is cut to fit, so that captions never spill into a
// neighbouring tile.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "avsl/data/image_transform.h"

namespace avsl::viz {

/// An 8-bit RGB colour.
struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

/// A height × width image filled with `color`.
data::RgbImage MakeCanvas(int height, int width, Rgb color);

/// OK when `image` has positive dimensions and height·width·3 pixel bytes; otherwise an error that names
/// `what` (e.g. "frame of sample 'k'") and the inconsistent sizes.
absl::Status CheckImage(const data::RgbImage& image, const std::string& what);

/// The pixel at (y, x). Requires a valid image and an in-range position.
Rgb PixelAt(const data::RgbImage& image, int y, int x);

/// Fills rows [y, y+h) × columns [x, x+w) (clipped to the image) with `color`.
void FillRect(data::RgbImage* image, int x, int y, int w, int h, Rgb color);

/// Copies `tile` with its top-left corner at (x, y), clipped to `canvas`.
void Paste(data::RgbImage* canvas, const data::RgbImage& tile, int x, int y);

/// Width in pixels of `text` in Hershey simplex at `scale` (thickness 1).
int TextWidth(const std::string& text, double scale);

/// `text` unchanged when it fits `max_width` pixels at `scale`, else its longest prefix that fits with ".."
/// appended (or "" when not even ".." fits).
std::string FitText(const std::string& text, int max_width, double scale);

/// Draws FitText(text, max_width, scale) in Hershey simplex (anti-aliased, thickness 1) with the left end of
/// its baseline at (x, baseline_y).
void DrawText(data::RgbImage* image, const std::string& text, int x, int baseline_y, int max_width, double scale,
              Rgb color);

}  // namespace avsl::viz
