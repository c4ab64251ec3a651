// Comparison grids (the seed paper's Figures 2–5): rows are samples, columns are runs (or tools) on the same
// samples, and rows are grouped into sections by GT size bucket so that small-object behaviour is visible
// next to large-object behaviour.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/data/image_transform.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/viz/canvas.h"

namespace avsl::viz {

/// A titled block of rows; each row holds one tile per column.
struct GridSection {
  std::string title;
  std::vector<std::vector<data::RgbImage>> rows;
};

struct GridOptions {
  int header_height = 20;   ///< Strip with the column labels at the top.
  int section_height = 18;  ///< Bar with the section title above each section's rows.
  int gap = 2;              ///< Background margin left of, right of and between tiles, and above each row.
  Rgb background{255, 255, 255};
  Rgb header_color{0, 0, 0};
  Rgb section_background{224, 224, 224};
  Rgb section_color{0, 0, 0};
  double font_scale = 0.45;
};

/// Lays the tiles out. With C columns of tiles tile_w × tile_h (all tiles must share one size):
///   width  = C·tile_w + (C + 1)·gap
///   height = header_height + Σ_sections (section_height + rows·(gap + tile_h)) + gap
/// Column labels are centred above their column. Errors: no columns, no rows at all, a row whose tile count
/// differs from the number of labels, a tile of another size or malformed (named by section title, row and
/// column).
absl::StatusOr<data::RgbImage> ComposeGrid(const std::vector<std::string>& column_labels,
                                           const std::vector<GridSection>& sections, const GridOptions& options);

/// A group of samples that forms one grid section.
struct SampleGroup {
  std::string title;            ///< e.g. "small: GT area < 32^2 px".
  std::vector<size_t> members;  ///< Indices into the records, in record order.
};

/// Groups samples by size bucket in the order small, medium, large, huge, then (if `include_silent`) the
/// silent samples; each group takes the first `per_bucket` records of its kind in record order. Groups with
/// no member are left out, so the grid has no empty sections.
std::vector<SampleGroup> GroupByBucket(const std::vector<metrics::SampleRecord>& records, int per_bucket,
                                       bool include_silent);

/// Section title of a bucket: "small: GT area < 32^2 px", "medium: 32^2 <= area < 96^2", ...
std::string BucketTitle(metrics::SizeBucket bucket);

}  // namespace avsl::viz
