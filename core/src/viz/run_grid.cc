#include "avsl/viz/run_grid.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/core/status_macros.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/metrics/size_bucket.h"
#include "avsl/viz/sample_inputs.h"

namespace avsl::viz {
absl::StatusOr<data::RgbImage> RenderRunGrid(const RunGridOptions& options, const eval::GtLookup& gt_lookup) {
  if (options.runs.empty()) return absl::InvalidArgumentError("grid: no runs given");
  AVSL_ASSIGN_OR_RETURN(const std::vector<eval::IndexRow> index, eval::ReadIndex(options.index_csv));

  // Buckets need only the GT area; the maps themselves are kept just for the selected rows.
  std::vector<metrics::SampleRecord> candidates(index.size());
  for (size_t i = 0; i < index.size(); ++i) {
    candidates[i].key = index[i].key;
    candidates[i].sounding = index[i].sounding;
    if (index[i].sounding) {
      AVSL_ASSIGN_OR_RETURN(const Map2D gt, eval::LookupSampleGt(gt_lookup, index[i].key, index[i].video));
      candidates[i].area = metrics::GtArea(gt);
      candidates[i].bucket = metrics::BucketForArea(candidates[i].area);
    }
  }
  const std::vector<SampleGroup> groups = GroupByBucket(candidates, options.per_bucket, options.include_silent);
  if (groups.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("grid: index ", options.index_csv, " selects no samples"));
  }

  std::vector<std::string> labels;
  if (options.frame_column) labels.push_back("frame + GT");
  for (const GridRun& run : options.runs) labels.push_back(run.label);
  const OverlayOptions overlay = OverlayOptionsFrom(options.scoring, options.overlay);
  OverlayOptions frame_only = overlay;
  frame_only.draw_heat = false;
  frame_only.draw_prediction = false;
  // One evaluator per run: the same checks (duplicate key, NaN, shape) and numbers as `avsl score`.
  std::vector<metrics::Evaluator> evaluators(options.runs.size(), metrics::Evaluator(options.scoring.protocol));

  std::vector<GridSection> sections;
  for (const SampleGroup& g : groups) {
    GridSection section;
    section.title = g.title;
    for (size_t i : g.members) {
      const eval::IndexRow& e = index[i];
      OverlayInput in;
      in.key = e.key;
      if (e.sounding) {
        AVSL_ASSIGN_OR_RETURN(in.gt, eval::LookupSampleGt(gt_lookup, e.key, e.video));
      }
      absl::StatusOr<data::RgbImage> frame = LoadFrame(options.frames_dir, e.video);
      if (!frame.ok()) {
        return absl::Status(frame.status().code(), absl::StrCat("sample '", e.key, "': ", frame.status().message()));
      }
      in.frame = *std::move(frame);
      std::vector<data::RgbImage> row;
      if (options.frame_column) {
        // The section title already names the bucket; the area says where in it the sample lies.
        in.caption = {e.key, e.sounding ? absl::StrFormat("area %.0f px", candidates[i].area) : std::string("silent")};
        AVSL_ASSIGN_OR_RETURN(data::RgbImage tile, RenderOverlay(in, frame_only));
        row.push_back(std::move(tile));
      }
      for (size_t r = 0; r < options.runs.size(); ++r) {
        absl::StatusOr<Map2D> map = LoadEvalMap(options.runs[r].maps_dir, e.key, options.scoring);
        if (!map.ok()) {
          return absl::Status(map.status().code(),
                              absl::StrCat("run '", options.runs[r].label, "': ", map.status().message()));
        }
        in.map = *std::move(map);
        if (absl::Status s = evaluators[r].Add(e.key, in.map, in.gt, e.conf, e.sounding); !s.ok()) {
          return absl::Status(s.code(), absl::StrCat("run '", options.runs[r].label, "': ", s.message()));
        }
        const metrics::SampleRecord& rec = evaluators[r].records().back();
        if (options.frame_column) {
          // The key is in the frame column; one number per line keeps the caption readable on small tiles.
          in.caption = {e.sounding ? absl::StrFormat("cIoU %.3f", rec.ciou) : std::string("silent"),
                        absl::StrFormat("conf %.3f", rec.conf)};
        } else {
          in.caption = SampleCaption(e.key, e.sounding ? std::optional<double>(rec.ciou) : std::nullopt, rec.conf);
        }
        AVSL_ASSIGN_OR_RETURN(data::RgbImage tile, RenderOverlay(in, overlay));
        row.push_back(std::move(tile));
      }
      section.rows.push_back(std::move(row));
    }
    sections.push_back(std::move(section));
  }
  return ComposeGrid(labels, sections, options.grid);
}

}  // namespace avsl::viz
