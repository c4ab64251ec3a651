#include "avsl/eval/score.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "avsl/core/parallel_for.h"
#include "avsl/core/status_macros.h"
#include "avsl/eval/test_set.h"
#include "avsl/io/atomic_file.h"
#include "avsl/io/npy.h"
#include "avsl/metrics/bootstrap.h"
#include "avsl/metrics/metric_fields.h"
#include "avsl/metrics/size_bucket.h"
#include "avsl/metrics/upsample.h"
#include "nlohmann/json.hpp"

namespace avsl::eval {
namespace {

struct Columns {
  int key = -1, video = -1, audio = -1, sounding = -1, conf = -1;
  size_t count = 0;
};

absl::StatusOr<Columns> ParseHeader(const std::string& line, const std::string& path) {
  Columns c;
  std::vector<std::string> names = absl::StrSplit(line, ',');
  c.count = names.size();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string name(absl::StripAsciiWhitespace(names[i]));
    int* slot = name == "key"        ? &c.key
                : name == "video"    ? &c.video
                : name == "audio"    ? &c.audio
                : name == "sounding" ? &c.sounding
                : name == "conf"     ? &c.conf
                                     : nullptr;
    if (slot == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("index ", path, " line 1: unknown column '", name,
                                                     "', expected key,video,audio,sounding[,conf]"));
    }
    if (*slot >= 0) {
      return absl::InvalidArgumentError(absl::StrCat("index ", path, " line 1: column '", name, "' repeated"));
    }
    *slot = static_cast<int>(i);
  }
  for (auto [col, name] : {std::pair{c.key, "key"}, {c.video, "video"}, {c.audio, "audio"}, {c.sounding, "sounding"}}) {
    if (col < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("index ", path, " line 1: missing column '", name, "', header is '", line, "'"));
    }
  }
  return c;
}

absl::StatusOr<bool> ParseSounding(const std::string& v, const std::string& where) {
  const std::string s = absl::AsciiStrToLower(v);
  if (s == "1" || s == "true") return true;
  if (s == "0" || s == "false") return false;
  return absl::InvalidArgumentError(absl::StrCat(where, ": sounding is '", v, "', expected 1, 0, true or false"));
}

nlohmann::json SetToJson(const metrics::MetricSet& m) {
  // nlohmann writes NaN as null, which is what an undefined metric should read as.
  nlohmann::json j{{"n_sounding", m.n_sounding}, {"n_silent", m.n_silent}};
  for (const metrics::MetricField& f : metrics::MetricFields()) j[f.name] = m.*f.member;
  return j;
}

}  // namespace

absl::Status ForEachIndexRow(const std::string& index_csv, const std::function<absl::Status(const IndexRow&)>& on_row) {
  std::ifstream in(index_csv);
  if (!in) return absl::NotFoundError(absl::StrCat("index ", index_csv, ": cannot open"));
  std::string line;
  if (!std::getline(in, line)) {
    return absl::InvalidArgumentError(absl::StrCat("index ", index_csv, ": empty file, expected a header"));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  AVSL_ASSIGN_OR_RETURN(const Columns cols, ParseHeader(line, index_csv));

  int line_no = 1;
  int rows = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = absl::StrCat("index ", index_csv, " line ", line_no);
    if (line.empty()) {
      // Only a trailing newline is tolerated; an empty row in the middle is malformed.
      if (in.peek() == std::char_traits<char>::eof()) break;
      return absl::InvalidArgumentError(absl::StrCat(where, ": empty row"));
    }
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() != cols.count) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", f.size(), " fields, expected ", cols.count, " ('", line, "')"));
    }
    for (std::string& s : f) s = std::string(absl::StripAsciiWhitespace(s));
    IndexRow row;
    row.line = line_no;
    row.key = f[cols.key];
    row.video = f[cols.video];
    if (row.key.empty() || row.key.find('/') != std::string::npos || row.key == "." || row.key == "..") {
      return absl::InvalidArgumentError(absl::StrCat(where, ": key '", row.key, "' is not a plain file name"));
    }
    AVSL_ASSIGN_OR_RETURN(row.sounding, ParseSounding(f[cols.sounding], where));
    if (cols.conf >= 0) {
      double c = 0;
      if (!absl::SimpleAtod(f[cols.conf], &c) || !std::isfinite(c)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": conf '", f[cols.conf], "' is not a finite number"));
      }
      row.conf = c;
    }
    AVSL_RETURN_IF_ERROR(on_row(row));
    ++rows;
  }
  if (rows == 0) return absl::InvalidArgumentError(absl::StrCat("index ", index_csv, ": no data rows"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IndexRow>> ReadIndex(const std::string& index_csv) {
  std::vector<IndexRow> rows;
  auto keep = [&rows](const IndexRow& row) {
    rows.push_back(row);
    return absl::OkStatus();
  };
  AVSL_RETURN_IF_ERROR(ForEachIndexRow(index_csv, keep));
  return rows;
}

absl::StatusOr<Map2D> NpyToEvalMap(io::NpyArray arr, const std::string& key, const std::string& path,
                                   const metrics::EvalProtocol& protocol) {
  std::vector<int64_t> shape = arr.shape;
  while (shape.size() > 2 && shape.front() == 1) shape.erase(shape.begin());
  if (shape.size() != 2 || shape[0] <= 0 || shape[1] <= 0) {
    std::string dims;
    for (size_t i = 0; i < arr.shape.size(); ++i) absl::StrAppend(&dims, i ? "x" : "", arr.shape[i]);
    return absl::InvalidArgumentError(
        absl::StrCat("sample '", key, "': map ", path, " has shape (", dims, "), expected a 2-D H×W array"));
  }
  Map2D map;
  map.height = static_cast<int>(shape[0]);
  map.width = static_cast<int>(shape[1]);
  map.values = std::move(arr.data);
  // Maps read from files carry no score range: no fixed-range normalization.
  const double none = std::numeric_limits<double>::quiet_NaN();
  absl::StatusOr<Map2D> on_grid = metrics::ToEvalMap(std::move(map), protocol, key, none, none);
  if (!on_grid.ok()) {
    return absl::Status(on_grid.status().code(), absl::StrCat(on_grid.status().message(), " [", path, "]"));
  }
  return on_grid;
}

absl::StatusOr<Map2D> LookupSampleGt(const GtLookup& gt_lookup, const std::string& key, const std::string& video) {
  absl::StatusOr<Map2D> gt = gt_lookup(video);
  if (!gt.ok()) {
    return absl::Status(gt.status().code(), absl::StrCat("sample '", key, "' (video '", video,
                                                         "'): no ground truth: ", gt.status().message()));
  }
  return gt;
}

absl::StatusOr<metrics::EvalResult> RunScore(const ScoreOptions& options, const GtLookup& gt_lookup) {
  AVSL_ASSIGN_OR_RETURN(const std::vector<IndexRow> rows, ReadIndex(options.index_csv));
  auto score_row = [&](const IndexRow& row) -> absl::StatusOr<metrics::SampleRecord> {
    const std::string map_path = absl::StrCat(options.maps_dir, "/", row.key, ".npy");
    absl::StatusOr<io::NpyArray> arr = io::ReadNpy(map_path);
    if (!arr.ok()) {
      return absl::Status(arr.status().code(), absl::StrCat("sample '", row.key, "' (index ", options.index_csv,
                                                            " line ", row.line, "): ", arr.status().message()));
    }
    AVSL_ASSIGN_OR_RETURN(const Map2D map, NpyToEvalMap(*std::move(arr), row.key, map_path, options.protocol));
    Map2D gt;
    if (row.sounding) {
      AVSL_ASSIGN_OR_RETURN(gt, LookupSampleGt(gt_lookup, row.key, row.video));
    }
    return metrics::ScoreSample(row.key, map, gt, row.conf, row.sounding, options.protocol);
  };
  // Each row is scored into its own slot; the first failing row in index order is the error, whatever the thread
  // count, so rows after a known failure are skipped and rows before it still run.
  std::vector<std::optional<absl::StatusOr<metrics::SampleRecord>>> scored(rows.size());
  std::atomic<size_t> first_failure{rows.size()};
  ParallelFor(rows.size(), options.threads, [&](size_t i) {
    if (i > first_failure.load()) return;
    scored[i] = score_row(rows[i]);
    if (scored[i]->ok()) return;
    for (size_t seen = first_failure.load(); i < seen && !first_failure.compare_exchange_weak(seen, i);) {
    }
  });
  metrics::Evaluator evaluator(options.protocol);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!scored[i]->ok()) return scored[i]->status();
    AVSL_RETURN_IF_ERROR(evaluator.AddRecord(*std::move(*scored[i])));
  }
  scored.clear();
  metrics::EvalResult result = evaluator.Finalize();
  if (!options.out_json.empty()) AVSL_RETURN_IF_ERROR(WriteMetricsJson(options.out_json, result, options.protocol));
  if (!options.per_sample_csv.empty()) AVSL_RETURN_IF_ERROR(WritePerSampleCsv(options.per_sample_csv, result));
  return result;
}

std::string MetricsJson(const metrics::EvalResult& result, const metrics::EvalProtocol& protocol,
                        const std::string& confidence, const std::map<std::string, double>& extra,
                        const TestSetIdentity* test_set) {
  nlohmann::json j = SetToJson(result.all);
  nlohmann::json buckets = nlohmann::json::object();
  for (int b = 0; b < metrics::kNumSizeBuckets; ++b) {
    buckets[metrics::BucketName(static_cast<metrics::SizeBucket>(b))] = SetToJson(result.buckets[b]);
  }
  j["buckets"] = buckets;
  // The protocol under the recipe's `eval.<name>` keys.
  j["options"] = {{"eval_size", protocol.eval_size},           {"upsample", metrics::UpsampleName(protocol.upsample)},
                  {"align_corners", protocol.align_corners},   {"pred_mode", metrics::PredModeName(protocol.pred_mode)},
                  {"topk_percent", protocol.topk_percent},     {"pred_threshold", protocol.pred_threshold},
                  {"ciou_threshold", protocol.ciou_threshold}, {"bootstrap_resamples", protocol.bootstrap_resamples}};
  if (protocol.bootstrap_resamples > 0) {
    metrics::BootstrapSpec spec;
    spec.resamples = protocol.bootstrap_resamples;
    const std::vector<metrics::MetricInterval> intervals = metrics::BootstrapIntervals(result.samples,
                                                                                       protocol.ciou_threshold, spec);
    nlohmann::json ci = nlohmann::json::object();
    for (size_t f = 0; f < intervals.size(); ++f) {
      const metrics::MetricInterval& i = intervals[f];
      ci[metrics::MetricFields()[f].name] = std::isfinite(i.lo) ? nlohmann::json::array({i.lo, i.hi})
                                                                : nlohmann::json();
    }
    j["ci95"] = ci;
  }
  const TestSetIdentity set = test_set != nullptr ? *test_set : IdentifyTestSet(result, {});
  j["test_set"] = {{"n", set.n},
                   {"sha256", set.sha256},
                   {"manifest", set.manifest.empty() ? nlohmann::json() : nlohmann::json(set.manifest)},
                   {"differs_from", set.differs_from},
                   {"lists", set.lists},
                   {"description", DescribeTestSet(set)}};
  if (!confidence.empty()) j["confidence"] = confidence;
  for (const auto& [k, v] : extra) j[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  return j.dump(2) + "\n";
}

absl::Status WriteMetricsJson(const std::string& path, const metrics::EvalResult& result,
                              const metrics::EvalProtocol& protocol) {
  return io::WriteFileAtomically(path, MetricsJson(result, protocol));
}

absl::Status WritePerSampleCsv(const std::string& path, const metrics::EvalResult& result) {
  std::string out = "key,ciou,conf,sounding,bucket,area,pointing\n";
  for (const metrics::SampleRecord& r : result.samples) {
    absl::StrAppendFormat(&out, "%s,%.17g,%.17g,%d,%s,%.17g,%d\n", r.key, r.ciou, r.conf, r.sounding ? 1 : 0,
                          r.bucket.has_value() ? metrics::BucketName(*r.bucket) : "none", r.area,
                          r.pointing_hit ? 1 : 0);
  }
  return io::WriteFileAtomically(path, out);
}

std::string FormatMetricsTable(const metrics::EvalResult& result) {
  auto num = [](double v) { return std::isnan(v) ? std::string("     -") : absl::StrFormat("%6.4f", v); };
  std::string out = absl::StrFormat("%-7s %7s %7s", "subset", "n_snd", "n_sil");
  for (const metrics::MetricField& f : metrics::MetricFields()) absl::StrAppendFormat(&out, " %6s", f.short_title);
  out += "\n";
  auto row = [&](const char* name, const metrics::MetricSet& m) {
    absl::StrAppendFormat(&out, "%-7s %7d %7d", name, m.n_sounding, m.n_silent);
    for (const metrics::MetricField& f : metrics::MetricFields()) absl::StrAppend(&out, " ", num(m.*f.member));
    out += "\n";
  };
  row("all", result.all);
  for (int b = 0; b < metrics::kNumSizeBuckets; ++b) {
    row(metrics::BucketName(static_cast<metrics::SizeBucket>(b)), result.buckets[b]);
  }
  return out;
}

}  // namespace avsl::eval
