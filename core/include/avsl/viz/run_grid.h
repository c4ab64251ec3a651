// The engine of `avsl report grid`: several runs' maps of the same samples side by side, grouped by GT size
// bucket (the seed paper's Figures 2–5). Each tile is a heatmap overlay whose caption gives that run's cIoU
// and confidence, computed by metrics::Evaluator exactly as `avsl score` would.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/data/image_transform.h"
#include "avsl/eval/score.h"
#include "avsl/viz/grid.h"
#include "avsl/viz/overlay.h"

namespace avsl::viz {

/// One column of the grid.
struct GridRun {
  std::string label;     ///< Column header.
  std::string maps_dir;  ///< <key>.npy for every selected key.
};

struct RunGridOptions {
  std::vector<GridRun> runs;
  std::string index_csv;   ///< `avsl score` index shared by all runs (a conf column applies to every run).
  std::string frames_dir;  ///< frames/<video>.jpg; "" draws on grey.
  int per_bucket = 3;      ///< Rows per size bucket (and for the silent section).
  bool include_silent = true;
  /// A first column "frame + GT" (no heat; caption: key and GT area). With it, run tiles are captioned
  /// "cIoU x" / "conf y" (or "silent"); without it, with viz::SampleCaption (key first).
  bool frame_column = true;
  /// Upsampling, binarization and γ as for `avsl score` (maps_dir, index_csv and outputs are ignored).
  eval::ScoreOptions scoring;
  OverlayOptions overlay = [] {
    OverlayOptions o;
    o.size = 160;  // keeps a 4-bucket, 3-run grid near 1000 px tall per 3 rows and well under 1 MB
    return o;
  }();
  GridOptions grid;
};

/// Selects samples (viz::GroupByBucket over the index rows, buckets from the GT area), scores each selected
/// sample for every run with a metrics::Evaluator and renders the grid. Errors name the run, key and file.
absl::StatusOr<data::RgbImage> RenderRunGrid(const RunGridOptions& options, const eval::GtLookup& gt_lookup);

}  // namespace avsl::viz
