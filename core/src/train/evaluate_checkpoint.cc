#include "avsl/train/evaluate_checkpoint.h"

#include <exception>
#include <filesystem>
#include <map>

#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/status_macros.h"
#include "avsl/dist/communicator.h"
#include "avsl/io/npy.h"
#include "avsl/io/run_dir.h"
#include "avsl/train/error_text.h"
#include "avsl/train/overlay_collector.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/run_report.h"
#include "avsl/train/sharded_evaluation.h"

namespace avsl::train {
namespace fs = std::filesystem;

namespace {

absl::StatusOr<CheckpointEvaluationResult> Evaluate(Method& method, data::Loader& loader, const torch::Device& device,
                                                    const MapEvaluationOptions& options,
                                                    const std::vector<std::shared_ptr<Metric>>& extra_metrics,
                                                    const CheckpointEvaluation& what) {
  if (!what.checkpoint.empty()) AVSL_RETURN_IF_ERROR(checkpoint::LoadMethodWeights(what.checkpoint, method));
  viz::OverlayOptions overlay;
  overlay.protocol = options.protocol;
  OverlayCollector overlays(what.overlays, overlay);
  if (!what.maps_dir.empty()) {
    std::error_code ec;
    fs::create_directories(what.maps_dir, ec);
    if (ec) return absl::UnavailableError("cannot create " + what.maps_dir + ": " + ec.message());
  }
  CheckpointEvaluationResult out;
  MapEvaluationOptions with_outputs = options;
  with_outputs.interactive_scores = true;
  with_outputs.on_sample = [&](const Sample& s, const Map2D& map, double conf) -> absl::Status {
    overlays.Add(s, map, conf);
    if (what.maps_dir.empty()) return absl::OkStatus();
    return io::WriteNpy((fs::path(what.maps_dir) / (s.key + ".npy")).string(), map.values.data(),
                        {map.height, map.width});
  };
  absl::StatusOr<MethodEvaluation> local = EvaluateMethod(method, loader, 0, device, with_outputs);
  if (what.ranks != nullptr) local = GatherMethodEvaluation(local, options.protocol, *what.ranks);
  AVSL_ASSIGN_OR_RETURN(MethodEvaluation evaluated, std::move(local));
  out.result = std::move(evaluated.result);
  out.confidence = std::move(evaluated.confidence);
  out.audio_dependence = evaluated.audio_dependence;
  out.test_set = eval::IdentifyTestSet(out.result, what.test_lists);
  out.negative_audio = evaluated.negative_audio;
  out.interactive = evaluated.interactive;
  if (what.ranks != nullptr && what.ranks->rank() != 0) return out;  // rank 0 writes
  AVSL_ASSIGN_OR_RETURN(out.overlays, overlays.Write((fs::path(what.out_dir) / "overlays").string(), out.result));
  std::map<std::string, double> extra = ComputeExtraMetrics(extra_metrics, out.result);
  extra["audio_dependence"] = out.audio_dependence.rate();  // NaN (JSON null) without silent pairs
  extra["audio_dependence_pairs"] = static_cast<double>(out.audio_dependence.pairs);
  for (const auto& [key, value] : metrics::NegativeAudioFields(out.negative_audio)) extra[key] = value;
  for (const auto& [key, value] : metrics::InteractiveFields(out.interactive)) extra[key] = value;
  AVSL_RETURN_IF_ERROR(
      WriteEvaluation(what.out_dir, out.result, options.protocol, out.confidence, extra, &out.test_set));
  return out;
}

}  // namespace

std::vector<std::string> SplitListFiles(const ComponentConfig& root, const std::string& split) {
  std::vector<std::string> out;
  if (!root.Has("data") || !root.Sub("data").Has(split)) return out;
  const ComponentConfig dataset = root.Sub("data").Sub(split);
  for (const char* key : {"list", "extended_list"}) {
    if (dataset.Has(key) && !dataset.GetString(key).empty()) out.push_back(dataset.GetString(key));
  }
  return out;
}

absl::StatusOr<CheckpointEvaluationResult> EvaluateCheckpoint(Method& method, data::Loader& loader,
                                                              const torch::Device& device,
                                                              const MapEvaluationOptions& options,
                                                              const std::vector<std::shared_ptr<Metric>>& extra_metrics,
                                                              const CheckpointEvaluation& what) {
  absl::StatusOr<CheckpointEvaluationResult> out = absl::UnknownError("evaluation did not run");
  try {
    out = Evaluate(method, loader, device, options, extra_metrics, what);
  } catch (const std::exception& e) {
    const std::string who = options.method_name.empty() ? "" : " (method " + options.method_name + ")";
    out = absl::InternalError(absl::StrCat("evaluation failed", who, ": ", DescribeException(e, what.verbose_errors)));
  }
  if (!out.ok() && !what.verbose_errors) return WithoutBacktrace(out.status());
  return out;
}

std::string SelectedCheckpointName(const std::string& run_dir, const std::string& select, const std::string& monitor) {
  if (select != "early_stop") return "last";
  const std::string best = io::BestCheckpointName(monitor);
  std::error_code ec;
  return fs::exists(fs::path(run_dir) / "checkpoints" / (best + ".pt"), ec) ? best : "last";
}

}  // namespace avsl::train
