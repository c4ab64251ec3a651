#include "avsl/viz/sample_inputs.h"

#include <cmath>
#include <filesystem>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/csv.h"
#include "avsl/io/npy.h"
#include "avsl/metrics/upsample.h"

namespace avsl::viz {

absl::StatusOr<std::vector<IndexEntry>> ReadIndexEntries(const std::string& index_csv) {
  AVSL_ASSIGN_OR_RETURN(const std::vector<data::CsvRow> rows, data::ReadCsvFile(index_csv));
  if (rows.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("index ", index_csv, ": empty file, expected a header"));
  }
  std::map<std::string, int> col;
  const std::vector<std::string>& header = rows[0].fields;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name(absl::StripAsciiWhitespace(header[i]));
    if (name != "key" && name != "video" && name != "audio" && name != "sounding" && name != "conf") {
      return absl::InvalidArgumentError(absl::StrCat("index ", index_csv, " line ", rows[0].line,
                                                     ": unknown column '", name,
                                                     "', expected key,video,audio,sounding[,conf]"));
    }
    if (!col.emplace(name, static_cast<int>(i)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("index ", index_csv, " line ", rows[0].line, ": column '", name, "' repeated"));
    }
  }
  for (const char* name : {"key", "video", "audio", "sounding"}) {
    if (!col.count(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("index ", index_csv, " line ", rows[0].line, ": missing column '", name, "'"));
    }
  }
  std::vector<IndexEntry> out;
  out.reserve(rows.size() - 1);
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::string where = absl::StrCat("index ", index_csv, " line ", rows[r].line);
    std::vector<std::string> f = rows[r].fields;
    if (f.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", f.size(), " fields, expected ", header.size()));
    }
    for (std::string& s : f) s = std::string(absl::StripAsciiWhitespace(s));
    IndexEntry e;
    e.key = f[col["key"]];
    e.video = f[col["video"]];
    if (e.key.empty() || e.key.find('/') != std::string::npos || e.key == "." || e.key == "..") {
      return absl::InvalidArgumentError(absl::StrCat(where, ": key '", e.key, "' is not a plain file name"));
    }
    const std::string s = absl::AsciiStrToLower(f[col["sounding"]]);
    if (s == "1" || s == "true") {
      e.sounding = true;
    } else if (s != "0" && s != "false") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": sounding is '", f[col["sounding"]], "', expected 1, 0, true or false"));
    }
    if (col.count("conf")) {
      double c = 0;
      if (!absl::SimpleAtod(f[col["conf"]], &c) || !std::isfinite(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": conf '", f[col["conf"]], "' is not a finite number"));
      }
      e.conf = c;
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat("index ", index_csv, ": no data rows"));
  return out;
}

absl::StatusOr<Map2D> LoadEvalMap(const std::string& maps_dir, const std::string& key,
                                  const eval::ScoreOptions& scoring) {
  const std::string path = (std::filesystem::path(maps_dir) / (key + ".npy")).string();
  absl::StatusOr<io::NpyArray> arr = io::ReadNpy(path);
  if (!arr.ok()) {
    return absl::Status(arr.status().code(), absl::StrCat("sample '", key, "': ", arr.status().message()));
  }
  std::vector<int64_t> shape = arr->shape;
  while (shape.size() > 2 && shape.front() == 1) shape.erase(shape.begin());
  if (shape.size() != 2 || shape[0] <= 0 || shape[1] <= 0) {
    std::string dims;
    for (size_t i = 0; i < arr->shape.size(); ++i) absl::StrAppend(&dims, i ? "x" : "", arr->shape[i]);
    return absl::InvalidArgumentError(
        absl::StrCat("sample '", key, "': map ", path, " has shape (", dims, "), expected a 2-D H×W array"));
  }
  Map2D map;
  map.height = static_cast<int>(shape[0]);
  map.width = static_cast<int>(shape[1]);
  map.values = std::move(arr->data);
  if (map.height == eval::kEvalSize && map.width == eval::kEvalSize) return map;
  if (scoring.upsample.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': map ", path, " is ", map.height, "x",
                                                   map.width, ", expected ", eval::kEvalSize, "x", eval::kEvalSize,
                                                   " (pass an upsample mode to resize it)"));
  }
  AVSL_ASSIGN_OR_RETURN(const metrics::UpsampleMode mode, metrics::ParseUpsampleMode(scoring.upsample));
  return metrics::Upsample(map, eval::kEvalSize, eval::kEvalSize, mode,
                           mode != metrics::UpsampleMode::kNearest && scoring.align_corners);
}

absl::StatusOr<data::RgbImage> LoadFrame(const std::string& frames_dir, const std::string& video) {
  if (frames_dir.empty()) return data::RgbImage{};
  return data::DecodeImageFile((std::filesystem::path(frames_dir) / (video + ".jpg")).string());
}

metrics::EvaluatorOptions EvaluatorOptionsFrom(const eval::ScoreOptions& scoring) {
  metrics::EvaluatorOptions o;
  o.gamma = scoring.gamma;
  o.top_percent = scoring.top_percent;
  o.pred_mode = scoring.pred_mode;
  o.abs_threshold = scoring.abs_threshold;
  return o;
}

OverlayOptions OverlayOptionsFrom(const eval::ScoreOptions& scoring, OverlayOptions base) {
  base.pred_mode = scoring.pred_mode;
  base.top_percent = scoring.top_percent;
  base.abs_threshold = scoring.abs_threshold;
  return base;
}

}  // namespace avsl::viz
