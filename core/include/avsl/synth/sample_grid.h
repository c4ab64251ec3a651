// A contact sheet of synthetic scenes with their ground truth, for the documentation and for eyeballing a
// generator change (docs/images/synthetic_samples.png is made with it; see docs/synthetic.md).
#pragma once

#include <cstdint>

#include <opencv2/core.hpp>

#include "avsl/synth/scene_generator.h"

namespace avsl {
namespace synth {

/// Renders test scenes 0 .. rows*cols-1 (epoch 0) of `seed`, each upscaled (nearest neighbour) to
/// `cell_size` pixels, with the sounding object's GT box in white/black (the other objects carry no box, as
/// in the annotations) and a two-line caption (class; size bucket, object count). Returns a CV_8UC3 BGR image.
cv::Mat RenderSampleGrid(const SceneGenerator& generator, uint64_t seed, int rows, int cols, int cell_size);

}  // namespace synth
}  // namespace avsl
