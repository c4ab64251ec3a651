// Drawing of synthetic scenes: gradient background, desaturated clutter, textured class shapes, pixel noise.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "avsl/core/counter_rng.h"
#include "avsl/synth/class_catalogue.h"
#include "avsl/synth/scene_generator.h"

namespace avsl {
namespace synth {

/// True when the point (u, v) of the unit box lies inside `shape` (the shape touches all four box edges,
/// so the object's box is its tight bounding box).
bool InsideShape(Shape shape, double u, double v);

/// Renders the objects (painted largest first, so small objects stay visible) over a two-colour linear
/// gradient with 0..max_clutter desaturated ellipses, adds Gaussian pixel noise and returns CV_8UC3 BGR.
/// Each of the three generators feeds one concern, so changing e.g. the clutter count does not move the
/// objects' colours.
cv::Mat RenderSceneImage(const std::vector<SceneObject>& objects, const ClassCatalogue& catalogue,
                         const SceneOptions& options, CounterRng& background_rng, CounterRng& object_rng,
                         CounterRng& noise_rng);

}  // namespace synth
}  // namespace avsl
