// The JET colormap used by the heatmap overlays. It is OpenCV's COLORMAP_JET, which the reference
// repositories' visualization scripts also use (cv2.applyColorMap(..., cv2.COLORMAP_JET)), so pictures are
// comparable with the seed paper's figures.
#pragma once

#include <cstdint>

#include "avsl/core/map2d.h"
#include "avsl/data/image_transform.h"
#include "avsl/viz/canvas.h"

namespace avsl::viz {

/// COLORMAP_JET's entry for an 8-bit level, as RGB: 0 is dark blue (0, 0, 128)-ish and 255 the hot colour,
/// dark red (128, 0, 0)-ish.
Rgb JetColor(uint8_t level);

/// round(255 · clamp(v, 0, 1)); NaN gives 0.
uint8_t Quantize01(double v);

/// One pixel per map value: JetColor(Quantize01(v)). `map01` should already be in [0, 1].
data::RgbImage JetHeatmap(const Map2D& map01);

}  // namespace avsl::viz
