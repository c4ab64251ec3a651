#include "avsl/viz/score_overlays.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/viz/png_writer.h"
#include "avsl/viz/sample_inputs.h"

namespace avsl::viz {

std::vector<size_t> SelectOverlaySamples(const std::vector<metrics::SampleRecord>& records, int count) {
  const size_t want_sounding = static_cast<size_t>(std::max(count, 0));
  const size_t want_silent = want_sounding / 4;
  size_t sounding = 0, silent = 0;
  std::vector<size_t> out;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].sounding ? sounding++ < want_sounding : silent++ < want_silent) out.push_back(i);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> WriteScoreOverlays(const eval::ScoreOptions& scoring,
                                                            const ScoreVisOptions& vis, const eval::GtLookup& gt_lookup,
                                                            const metrics::EvalResult& result) {
  const std::vector<size_t> chosen = SelectOverlaySamples(result.samples, vis.count);
  std::vector<std::string> written;
  if (chosen.empty()) return written;
  std::error_code ec;
  std::filesystem::create_directories(vis.out_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("overlays: cannot create directory ", vis.out_dir, ": ", ec.message()));
  }
  AVSL_ASSIGN_OR_RETURN(const std::vector<eval::IndexRow> index, eval::ReadIndex(scoring.index_csv));
  std::unordered_map<std::string, const eval::IndexRow*> by_key;
  for (const eval::IndexRow& e : index) by_key.emplace(e.key, &e);
  const OverlayOptions options = OverlayOptionsFrom(scoring, vis.overlay);

  for (size_t i : chosen) {
    const metrics::SampleRecord& r = result.samples[i];
    auto it = by_key.find(r.key);
    if (it == by_key.end()) {
      return absl::NotFoundError(absl::StrCat("overlays: sample '", r.key, "' is not in index ", scoring.index_csv));
    }
    OverlayInput in;
    in.key = r.key;
    AVSL_ASSIGN_OR_RETURN(in.map, LoadEvalMap(scoring.maps_dir, r.key, scoring));
    if (r.sounding) {
      AVSL_ASSIGN_OR_RETURN(in.gt, eval::LookupSampleGt(gt_lookup, r.key, it->second->video));
    }
    absl::StatusOr<data::RgbImage> frame = LoadFrame(vis.frames_dir, it->second->video);
    if (!frame.ok()) {
      return absl::Status(frame.status().code(), absl::StrCat("sample '", r.key, "': ", frame.status().message()));
    }
    in.frame = *std::move(frame);
    in.caption = SampleCaption(r.key, r.sounding ? std::optional<double>(r.ciou) : std::nullopt, r.conf);
    AVSL_ASSIGN_OR_RETURN(const data::RgbImage picture, RenderOverlay(in, options));
    const std::string path = (std::filesystem::path(vis.out_dir) / (r.key + ".png")).string();
    AVSL_RETURN_IF_ERROR(WritePng(path, picture));
    written.push_back(path);
  }
  return written;
}

}  // namespace avsl::viz
