#include "avsl/viz/grid.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"

namespace avsl::viz {

std::string BucketTitle(metrics::SizeBucket bucket) {
  switch (bucket) {
    case metrics::SizeBucket::kSmall: return "small: GT area < 32^2 px";
    case metrics::SizeBucket::kMedium: return "medium: 32^2 <= GT area < 96^2 px";
    case metrics::SizeBucket::kLarge: return "large: 96^2 <= GT area < 144^2 px";
    case metrics::SizeBucket::kHuge: return "huge: GT area >= 144^2 px";
  }
  return "";
}

std::vector<SampleGroup> GroupByBucket(const std::vector<metrics::SampleRecord>& records, int per_bucket,
                                       bool include_silent) {
  std::vector<SampleGroup> groups(metrics::kNumSizeBuckets + 1);
  for (int b = 0; b < metrics::kNumSizeBuckets; ++b) groups[b].title = BucketTitle(static_cast<metrics::SizeBucket>(b));
  groups.back().title = "silent: nothing visible sounds";
  const size_t cap = static_cast<size_t>(std::max(per_bucket, 0));
  for (size_t i = 0; i < records.size(); ++i) {
    const metrics::SampleRecord& r = records[i];
    SampleGroup* g = nullptr;
    if (r.sounding && r.bucket.has_value()) {
      g = &groups[static_cast<int>(*r.bucket)];
    } else if (!r.sounding && include_silent) {
      g = &groups.back();
    }
    if (g != nullptr && g->members.size() < cap) g->members.push_back(i);
  }
  groups.erase(std::remove_if(groups.begin(), groups.end(), [](const SampleGroup& g) { return g.members.empty(); }),
               groups.end());
  return groups;
}

absl::StatusOr<data::RgbImage> ComposeGrid(const std::vector<std::string>& column_labels,
                                           const std::vector<GridSection>& sections, const GridOptions& options) {
  const int cols = static_cast<int>(column_labels.size());
  if (cols == 0) return absl::InvalidArgumentError("grid: no columns (no run labels)");
  const data::RgbImage* first = nullptr;
  int total_rows = 0;
  for (const GridSection& s : sections) {
    for (size_t r = 0; r < s.rows.size(); ++r) {
      const std::vector<data::RgbImage>& row = s.rows[r];
      if (static_cast<int>(row.size()) != cols) {
        return absl::InvalidArgumentError(absl::StrCat("grid section '", s.title, "' row ", r, ": ", row.size(),
                                                       " tiles, expected ", cols, " (one per column label)"));
      }
      for (int c = 0; c < cols; ++c) {
        const std::string where = absl::StrCat("grid section '", s.title, "' row ", r, " column ", c, " ('",
                                               column_labels[c], "')");
        AVSL_RETURN_IF_ERROR(CheckImage(row[c], where));
        if (first == nullptr) first = &row[c];
        if (row[c].width != first->width || row[c].height != first->height) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": tile is ", row[c].width, "x", row[c].height,
                                                         ", expected ", first->width, "x", first->height,
                                                         " like the first tile"));
        }
      }
      ++total_rows;
    }
  }
  if (total_rows == 0) return absl::InvalidArgumentError("grid: no rows (no samples selected)");

  const int tw = first->width, th = first->height, gap = std::max(options.gap, 0);
  int height = options.header_height + gap;
  for (const GridSection& s : sections) {
    height += options.section_height + static_cast<int>(s.rows.size()) * (gap + th);
  }
  const int width = cols * tw + (cols + 1) * gap;
  data::RgbImage out = MakeCanvas(height, width, options.background);

  for (int c = 0; c < cols; ++c) {
    const int x0 = gap + c * (tw + gap);
    const std::string label = FitText(column_labels[c], tw - 4, options.font_scale);
    const int x = x0 + std::max(0, (tw - TextWidth(label, options.font_scale)) / 2);
    DrawText(&out, label, x, options.header_height - 6, tw - 4, options.font_scale, options.header_color);
  }
  int y = options.header_height;
  for (const GridSection& s : sections) {
    if (options.section_height > 0) {
      FillRect(&out, 0, y, width, options.section_height, options.section_background);
      DrawText(&out, s.title, gap + 2, y + options.section_height - 5, width - 2 * gap - 4, options.font_scale,
               options.section_color);
    }
    y += options.section_height;
    for (const std::vector<data::RgbImage>& row : s.rows) {
      y += gap;
      for (int c = 0; c < cols; ++c) Paste(&out, row[c], gap + c * (tw + gap), y);
      y += th;
    }
  }
  return out;
}

}  // namespace avsl::viz
