// What the pictures read for one sample of an `avsl score` index: the index rows, the map on the evaluation
// grid (upsampled exactly as `avsl score` does) and the frame. The pictures must show the map that was
// scored, so the same ScoreOptions drive both.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/data/image_transform.h"
#include "avsl/eval/score.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/viz/overlay.h"

namespace avsl::viz {

/// One row of an `avsl score` index.
struct IndexEntry {
  std::string key;
  std::string video;
  bool sounding = false;
  std::optional<double> conf;  ///< From the optional conf column.
};

/// Reads an index CSV with the columns key, video, audio, sounding and optionally conf, in any order (the
/// format of `avsl score --index`). Errors name the file and line: an unknown, missing or repeated column, a
/// wrong field count, a bad sounding or conf value, a key that is not a plain file name, no data rows.
absl::StatusOr<std::vector<IndexEntry>> ReadIndexEntries(const std::string& index_csv);

/// Reads `maps_dir`/<key>.npy as a 2-D map (leading singleton dimensions dropped) and brings it to the
/// 224×224 evaluation grid with scoring.upsample / scoring.align_corners, exactly as eval::RunScore does.
/// A map of another size without an upsample mode is an error naming the key, path and shape.
absl::StatusOr<Map2D> LoadEvalMap(const std::string& maps_dir, const std::string& key,
                                  const eval::ScoreOptions& scoring);

/// Decodes `frames_dir`/<video>.jpg as RGB. An empty `frames_dir` gives an empty image (drawn as grey).
/// Errors name the file.
absl::StatusOr<data::RgbImage> LoadFrame(const std::string& frames_dir, const std::string& video);

/// The evaluator settings of `scoring` (γ, top-k, prediction mode, absolute threshold).
metrics::EvaluatorOptions EvaluatorOptionsFrom(const eval::ScoreOptions& scoring);

/// `base` with its binarization (prediction contour) set from `scoring`, so the contour is the scored one.
OverlayOptions OverlayOptionsFrom(const eval::ScoreOptions& scoring, OverlayOptions base = {});

}  // namespace avsl::viz
