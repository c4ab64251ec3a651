// What the pictures read for one sample of an `avsl score` index (read with eval::ReadIndex): the map on the
// evaluation grid (upsampled exactly as `avsl score` does) and the frame. The pictures must show the map that
// was scored, so the same ScoreOptions drive both.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/data/image_transform.h"
#include "avsl/eval/score.h"
#include "avsl/viz/overlay.h"

namespace avsl::viz {

/// Reads `maps_dir`/<key>.npy and brings it to the 224×224 evaluation grid with eval::NpyToEvalMap, as
/// eval::RunScore does. Errors name the key and path.
absl::StatusOr<Map2D> LoadEvalMap(const std::string& maps_dir, const std::string& key,
                                  const eval::ScoreOptions& scoring);

/// Decodes `frames_dir`/<video>.jpg as RGB. An empty `frames_dir` gives an empty image (drawn as grey).
/// Errors name the file.
absl::StatusOr<data::RgbImage> LoadFrame(const std::string& frames_dir, const std::string& video);

/// `base` with its binarization (prediction contour) set from `scoring`, so the contour is the scored one.
OverlayOptions OverlayOptionsFrom(const eval::ScoreOptions& scoring, OverlayOptions base = {});

}  // namespace avsl::viz
