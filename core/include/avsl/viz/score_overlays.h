// The pictures of `avsl score --vis-dir`: one heatmap overlay per chosen sample, named <key>.png, drawn from
// the same maps, ground truth and binarization that were just scored.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/eval/score.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/viz/overlay.h"

namespace avsl::viz {

struct ScoreVisOptions {
  std::string out_dir;     ///< Created if missing; receives <key>.png.
  std::string frames_dir;  ///< frames/<video>.jpg; "" draws the maps on grey.
  int count = 16;          ///< Sounding samples drawn; up to count/4 silent ones are added.
  OverlayOptions overlay;  ///< Its binarization is replaced by the scoring options'.
};

/// The deterministic choice of samples: the first `count` sounding records in record (index) order plus the
/// first count/4 silent ones (integer division), returned as indices in record order.
std::vector<size_t> SelectOverlaySamples(const std::vector<metrics::SampleRecord>& records, int count);

/// Renders and writes the overlays of SelectOverlaySamples(result.samples, vis.count). Each sample's map is
/// re-read and brought to the evaluation grid with `scoring` (as eval::RunScore did); its caption carries the
/// scored cIoU and confidence from `result`. The index is re-read for each key's video. Returns the written
/// paths. Errors name the key and the file (missing frame, unwritable directory, ...).
absl::StatusOr<std::vector<std::string>> WriteScoreOverlays(const eval::ScoreOptions& scoring,
                                                            const ScoreVisOptions& vis, const eval::GtLookup& gt_lookup,
                                                            const metrics::EvalResult& result);

}  // namespace avsl::viz
