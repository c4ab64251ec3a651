#include "avsl/eval/results_table.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <toml++/toml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "avsl/core/status_macros.h"
#include "avsl/io/run_dir.h"
#include "avsl/metrics/metric_fields.h"
#include "avsl/metrics/negative_audio.h"

namespace avsl::eval {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<nlohmann::json> ReadJson(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a JSON object"));
  }
  return j;
}

absl::StatusOr<std::map<std::string, double>> ReadMetrics(const fs::path& path, std::string* confidence,
                                                          std::string* test_set = nullptr) {
  AVSL_ASSIGN_OR_RETURN(nlohmann::json j, ReadJson(path));
  std::map<std::string, double> values;
  for (const auto& [key, value] : j.items()) {
    if (value.is_number()) values[key] = value.get<double>();
  }
  // The bootstrap intervals ("ci95": {"ap": [lo, hi], ...}) as <key>_ci_lo / <key>_ci_hi.
  if (j.contains("ci95") && j["ci95"].is_object()) {
    for (const auto& [key, value] : j["ci95"].items()) {
      if (value.is_array() && value.size() == 2 && value[0].is_number() && value[1].is_number()) {
        values[key + "_ci_lo"] = value[0].get<double>();
        values[key + "_ci_hi"] = value[1].get<double>();
      }
    }
  }
  if (j.contains("confidence") && j["confidence"].is_string()) *confidence = j["confidence"].get<std::string>();
  if (test_set != nullptr && j.contains("test_set") && j["test_set"].is_object() &&
      j["test_set"].contains("description") && j["test_set"]["description"].is_string()) {
    *test_set = j["test_set"]["description"].get<std::string>();
  }
  return values;
}

struct Cell {
  double mean = 0, stddev = 0;
  int n = 0;
  std::optional<std::pair<double, double>> interval;  ///< a single run's bootstrap 95 % interval, when asked for
};

std::string FormatCell(const std::optional<Cell>& cell) {
  if (!cell) return "–";
  if (cell->n == 1) {
    if (cell->interval) {
      return absl::StrFormat("%.1f [%.1f, %.1f]", 100 * cell->mean, 100 * cell->interval->first,
                             100 * cell->interval->second);
    }
    return absl::StrFormat("%.1f", 100 * cell->mean);
  }
  return absl::StrFormat("%.1f ± %.1f", 100 * cell->mean, 100 * cell->stddev);
}

// Mean and sample standard deviation of one metric over the runs of a row; empty if any run lacks it (a mean
// over a subset would silently mix different numbers of seeds). With `intervals`, a single run's bootstrap interval.
std::optional<Cell> Aggregate(const std::vector<const std::map<std::string, double>*>& evals, const std::string& key,
                              bool intervals) {
  Cell c;
  std::vector<double> v;
  for (const auto* e : evals) {
    if (e == nullptr) return std::nullopt;
    auto it = e->find(key);
    if (it == e->end()) return std::nullopt;
    v.push_back(it->second);
  }
  if (v.empty()) return std::nullopt;
  if (intervals && v.size() == 1) {
    auto lo = evals[0]->find(key + "_ci_lo"), hi = evals[0]->find(key + "_ci_hi");
    if (lo != evals[0]->end() && hi != evals[0]->end()) c.interval = std::make_pair(lo->second, hi->second);
  }
  c.n = static_cast<int>(v.size());
  for (double x : v) c.mean += x / c.n;
  if (c.n > 1) {
    double ss = 0;
    for (double x : v) ss += (x - c.mean) * (x - c.mean);
    c.stddev = std::sqrt(ss / (c.n - 1));
  }
  return c;
}

// A Markdown table cell: '|' would end the cell (DMC's confidence is named "dmc -min_k ||o_v,k - o_a||").
std::string CellText(const std::string& text) { return absl::StrReplaceAll(text, {{"|", "\\|"}}); }

}  // namespace

const std::map<std::string, std::string>& ResultsTableColumns() {
  static const auto* columns = [] {
    auto* c = new std::map<std::string, std::string>;
    for (const metrics::MetricField& f : metrics::MetricFields()) (*c)[f.name] = f.title;
    (*c)["audio_dependence"] = "Audio-dep.";  // not a MetricSet field: a property of the split's paired frames
    // The interactive scores (SSLalignment's adaptive cIoU and IIoU; metrics/interactive.h).
    (*c)["ciou_adaptive"] = "cIoU (adaptive)";
    (*c)["auc_adaptive"] = "AUC (adaptive)";
    (*c)["iiou"] = "IIoU";
    (*c)["iiou_adaptive"] = "IIoU (adaptive)";
    (*c)["iauc"] = "IAUC";
    (*c)["iauc_adaptive"] = "IAUC (adaptive)";
    // The negative-audio evaluation (avsl eval --negative-audio): sounding vs each replaced sound.
    for (const std::string& kind : metrics::NegativeAudioKinds()) {
      (*c)["neg_" + kind + "_ap"] = "AP vs " + kind;
      (*c)["neg_" + kind + "_max_f1"] = "F1 vs " + kind;
      (*c)["neg_" + kind + "_peak_moved"] = "Moves (" + kind + ")";
    }
    return c;
  }();
  return *columns;
}

absl::StatusOr<RunResult> ReadRunResult(const std::string& run_dir, const std::string& split) {
  RunResult r;
  r.dir = run_dir;
  const fs::path dir(run_dir);
  if (!fs::is_directory(dir)) return absl::NotFoundError(absl::StrCat("run directory not found: ", run_dir));
  const fs::path recipe = dir / "recipe.toml";
  if (!fs::exists(recipe)) {
    return absl::NotFoundError(
        absl::StrCat("not a run directory: ", run_dir, " (no recipe.toml; 'avsl train' writes one in every run)"));
  }
  toml::table parsed;
  try {
    parsed = toml::parse_file(recipe.string());
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(recipe.string(), ": ", std::string(e.description()), ""));
  }
  r.label = parsed["name"].value_or(dir.parent_path().filename().string());
  r.method_type = parsed["model"]["type"].value_or(std::string("?"));

  std::string monitor;
  if (fs::exists(dir / "train_state.json")) {
    AVSL_ASSIGN_OR_RETURN(nlohmann::json state, ReadJson(dir / "train_state.json"));
    r.epochs_trained = state.value("epoch", 0LL);
    r.best_epoch = state.value("best_epoch", -1LL);
    monitor = state.value("monitor", std::string());
  }
  const fs::path last = dir / "eval" / (split + "_last") / "metrics.json";
  if (fs::exists(last)) {
    AVSL_ASSIGN_OR_RETURN(r.last, ReadMetrics(last, &r.confidence, &r.test_set));
  }
  const std::string best = io::BestCheckpointName(monitor);
  const fs::path early = dir / "eval" / (split + "_" + best) / "metrics.json";
  if (!monitor.empty() && fs::exists(early)) {
    std::string confidence;
    std::string test_set;
    AVSL_ASSIGN_OR_RETURN(r.early_stop, ReadMetrics(early, &confidence, &test_set));
    if (r.test_set.empty()) r.test_set = test_set;
    r.early_stop_checkpoint = best;
    if (r.confidence.empty()) r.confidence = confidence;
  }
  const fs::path untrained = dir / "eval" / (split + "_untrained") / "metrics.json";
  if (fs::exists(untrained)) {
    std::string confidence;
    AVSL_ASSIGN_OR_RETURN(r.untrained, ReadMetrics(untrained, &confidence));
  }
  if (!r.last && !r.early_stop) {
    return absl::NotFoundError(absl::StrCat("run directory ", run_dir, " has no evaluation on the '", split,
                                            "' split (expected ", last.string(), "); run 'avsl eval ", run_dir,
                                            " --split ", split, "'"));
  }
  return r;
}

absl::StatusOr<std::string> RenderResultsTable(const std::vector<RunResult>& runs, const ResultsTableOptions& options) {
  if (runs.empty()) return absl::InvalidArgumentError("no run directories to tabulate");
  std::vector<std::string> titles;
  for (const std::string& key : options.columns) {
    auto it = ResultsTableColumns().find(key);
    if (it == ResultsTableColumns().end()) {
      std::vector<std::string> valid;
      for (const auto& [k, title] : ResultsTableColumns()) valid.push_back(k);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown results column '", key, "'; expected one of ", absl::StrJoin(valid, ", ")));
    }
    titles.push_back(it->second);
  }
  std::vector<std::string> order;
  std::map<std::string, std::vector<const RunResult*>> rows;
  for (const RunResult& r : runs) {
    if (rows[r.label].empty()) order.push_back(r.label);
    rows[r.label].push_back(&r);
  }

  std::vector<const char*> groups = {"Early Stop", "No Early Stop"};
  const bool untrained_group = options.untrained_columns &&
                               std::any_of(runs.begin(), runs.end(),
                                           [](const RunResult& r) { return r.untrained.has_value(); });
  if (untrained_group) groups.push_back("Untrained");
  std::ostringstream md;
  md << "| Method | Runs";
  for (const char* group : groups) {
    for (const std::string& t : titles) md << " | " << t << " (" << group << ")";
  }
  // Which items the numbers were computed on (metrics.json "test_set"), when the evaluations record it.
  const bool test_set_column = std::any_of(runs.begin(), runs.end(),
                                           [](const RunResult& r) { return !r.test_set.empty(); });
  md << " | Confidence |" << (test_set_column ? " Test set |" : "") << "\n|---|---:";
  for (size_t i = 0; i < groups.size() * titles.size(); ++i) md << "|---:";
  md << "|---|" << (test_set_column ? "---|" : "") << "\n";
  for (const std::string& label : order) {
    std::vector<const std::map<std::string, double>*> early, last, untrained_evals;
    std::vector<std::string> confidences;
    for (const RunResult* r : rows[label]) {
      last.push_back(r->last ? &*r->last : nullptr);
      // An untrained reference method has a single model: its early-stop result is its only result.
      const bool untrained = r->epochs_trained == 0 && !r->early_stop;
      early.push_back(r->early_stop ? &*r->early_stop : (untrained && r->last ? &*r->last : nullptr));
      untrained_evals.push_back(r->untrained ? &*r->untrained : (untrained && r->last ? &*r->last : nullptr));
      if (std::find(confidences.begin(), confidences.end(), r->confidence) == confidences.end()) {
        confidences.push_back(r->confidence);
      }
    }
    md << "| " << CellText(label) << " | " << rows[label].size();
    std::vector<const std::vector<const std::map<std::string, double>*>*> cells = {&early, &last};
    if (untrained_group) cells.push_back(&untrained_evals);
    for (const auto* evals : cells) {
      for (const std::string& key : options.columns)
        md << " | " << FormatCell(Aggregate(*evals, key, options.intervals));
    }
    md << " | " << CellText(absl::StrJoin(confidences, ", ")) << " |";
    if (test_set_column) {
      std::vector<std::string> sets;
      for (const RunResult* r : rows[label]) {
        const std::string set = r->test_set.empty() ? "?" : r->test_set;
        if (std::find(sets.begin(), sets.end(), set) == sets.end()) sets.push_back(set);
      }
      md << " " << CellText(absl::StrJoin(sets, "; ")) << " |";
    }
    md << "\n";
  }
  md << "\nValues in % on the '" << options.split
     << "' split; mean ± sample standard deviation over the runs of a row (seeds). Early Stop: the checkpoint with "
        "the best validation score (train.monitor); No Early Stop: the last epoch."
     << (untrained_group ? " Untrained: the same recipe at step 0 (avsl eval RUN_DIR --untrained), the control." : "")
     << (options.intervals ? " [lo, hi]: a single run's bootstrap 95 % interval over the test samples." : "")
     << " – : no such evaluation."
     << (test_set_column ? " Test set: the published test list the evaluated items match (docs/evaluation.md §9.2), "
                           "else their number N; a row's seeds may each have their own set."
                         : "")
     << "\n";
  return md.str();
}

}  // namespace avsl::eval
