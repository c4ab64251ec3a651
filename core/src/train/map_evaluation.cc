#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/metrics/confidence.h"
#include "avsl/metrics/pointing.h"
#include "avsl/train/collate.h"
#include "avsl/train/map_evaluation.h"

namespace avsl::train {

namespace {
// The evaluator's own rule when a method gives no confidence: metrics::TopFractionMean(map, 0.25).
constexpr const char* kGenericConfidence = "generic (top-25% mean)";

std::string MethodLabel(const MapEvaluationOptions& options) {
  return options.method_name.empty() ? std::string("the method") : "method " + options.method_name;
}

// "k0, k1, ..., k7, ..." (the first 8 keys).
std::string BatchKeys(const std::vector<Sample>& samples) {
  std::string out;
  for (size_t i = 0; i < samples.size() && i < 8; ++i) absl::StrAppend(&out, i ? ", " : "", samples[i].key);
  if (samples.size() > 8) absl::StrAppend(&out, ", ...");
  return out;
}

// Restores the method's training mode when the evaluation ends, however it ends (an error, an exception).
class TrainingModeRestorer {
 public:
  explicit TrainingModeRestorer(Method& method) : method_(method), was_training_(method.is_training()) {}
  ~TrainingModeRestorer() {
    if (!was_training_) return;
    try {
      method_.train();
    } catch (...) {  // nothing sensible to do in a destructor; the evaluation's own outcome is reported
    }
  }
  TrainingModeRestorer(const TrainingModeRestorer&) = delete;
  TrainingModeRestorer& operator=(const TrainingModeRestorer&) = delete;

 private:
  Method& method_;
  bool was_training_;
};

// Localize on one batch, then every sample's eval-grid map into `evaluator`. `*phase` names the part that is
// running, for the caller's exception guard; `*confidence` gets the confidence rule used.
absl::Status EvaluateBatch(Method& method, const data::SampleBatch& sample_batch, const torch::Device& device,
                           const MapEvaluationOptions& options, metrics::Evaluator& evaluator,
                           metrics::AudioDependence& dependence, metrics::NegativeAudio& negatives,
                           metrics::InteractiveEvaluator& interactive, MethodEvaluation& out, std::string* phase) {
  const std::vector<Sample>& samples = sample_batch.samples;
  std::string* confidence = &out.confidence;
  const metrics::EvalProtocol& protocol = options.protocol;
  *phase = "the collation of the batch";
  absl::StatusOr<Batch> batch = Collate(samples, device);
  if (!batch.ok()) return batch.status();
  *phase = "Localize";
  Localization loc = method.Localize(*batch);
  *phase = "the conversion of Localize's maps and confidence to CPU doubles";
  const torch::Tensor maps = loc.maps.detach().to(torch::kCPU, torch::kDouble).contiguous();
  torch::Tensor conf;
  if (loc.confidence.defined()) conf = loc.confidence.detach().to(torch::kCPU, torch::kDouble).contiguous();
  *confidence = ConfidenceName(loc);
  const int64_t n = static_cast<int64_t>(samples.size());
  if (maps.dim() != 3 || maps.size(0) != n) {
    return absl::InternalError(absl::StrCat(MethodLabel(options), "'s Localize returned maps of shape ",
                                            c10::str(maps.sizes()), "; expected [", samples.size(), ", h, w]"));
  }
  if (conf.defined() && conf.numel() != n) {
    return absl::InternalError(absl::StrCat(MethodLabel(options), "'s Localize returned a confidence of ", conf.numel(),
                                            " values (shape ", c10::str(conf.sizes()), ") for a batch of ", n,
                                            " samples; expected ", n, ", one per sample (Localization::confidence)"));
  }
  if (conf.defined()) conf = conf.reshape({n});
  for (int64_t i = 0; i < n; ++i) {
    const Sample& s = samples[static_cast<size_t>(i)];
    *phase = absl::StrCat("the post-processing of the map of '", s.key, "' (metrics::ToEvalMap)");
    Map2D native(static_cast<int>(maps.size(1)), static_cast<int>(maps.size(2)));
    std::memcpy(native.values.data(), maps[i].data_ptr<double>(), native.values.size() * sizeof(double));
    absl::StatusOr<Map2D> map = metrics::ToEvalMap(std::move(native), protocol, s.key, loc.range_min, loc.range_max);
    if (!map.ok()) return map.status();
    const std::string frame = s.video_id.empty() ? s.key : s.video_id;
    if (s.sounding && s.negative_audio.empty() &&
        (s.gt_map.height != protocol.eval_size || s.gt_map.width != protocol.eval_size)) {
      return absl::InvalidArgumentError(absl::StrCat("sample '", s.key, "': GT map is ", s.gt_map.height, "x",
                                                     s.gt_map.width, ", expected the ", protocol.eval_size, "x",
                                                     protocol.eval_size, " evaluation grid"));
    }
    std::optional<double> c;
    if (conf.defined()) c = conf[i].item<double>();
    *phase = absl::StrCat("the scoring of '", s.key, "'");
    const int64_t peak = map->values.empty() ? -1 : static_cast<int64_t>(metrics::PeakIndex(*map));
    // The dataset index (a loader always gives one; the position is a fallback for hand-made batches).
    const size_t index = static_cast<size_t>(i) < sample_batch.indices.size() ? sample_batch.indices[i]
                                                                              : out.indices.size();
    if (!s.negative_audio.empty()) {
      // Scored apart (metrics::NegativeAudio), so the split's own numbers are those of a run without them; through
      // ScoreSample for the same checks (finite map and confidence) and the same fallback confidence.
      absl::StatusOr<metrics::SampleRecord> scored = metrics::ScoreSample(s.key, *map, Map2D(), c, false, protocol);
      if (!scored.ok()) return scored.status();
      AVSL_RETURN_IF_ERROR(negatives.AddNegativePeak(s.negative_audio, frame, s.key, scored->conf, peak));
      out.negatives.push_back({index, s.negative_audio, frame, s.key, scored->conf, peak});
    } else {
      AVSL_RETURN_IF_ERROR(evaluator.Add(s.key, *map, s.gt_map, c, s.sounding));
      dependence.AddPeak(frame, s.sounding, peak);
      SampleContribution contribution{frame, peak, s.sounding && options.interactive_scores, {}};
      if (contribution.interactive) {
        contribution.scores = metrics::SslAlignQueryScores(*map, s.gt_map);
        interactive.AddScores(frame, contribution.scores);
      }
      out.indices.push_back(index);
      out.contributions.push_back(std::move(contribution));
    }
    if (options.on_sample) {
      *phase = absl::StrCat("the per-sample output of '", s.key, "'");
      AVSL_RETURN_IF_ERROR(options.on_sample(s, *map, c ? *c : metrics::TopFractionMean(*map, 0.25)));
    }
  }
  return absl::OkStatus();
}
}  // namespace

std::string ConfidenceName(const Localization& localization) {
  return localization.confidence.defined() ? localization.confidence_name : kGenericConfidence;
}

absl::StatusOr<MethodEvaluation> EvaluateMethod(Method& method, data::Loader& loader, uint64_t epoch,
                                                const torch::Device& device, const MapEvaluationOptions& options) {
  TrainingModeRestorer restore_mode(method);
  method.eval();
  torch::NoGradGuard no_grad;
  const metrics::EvalProtocol& protocol = options.protocol;
  metrics::Evaluator evaluator(protocol);
  metrics::AudioDependence dependence;
  metrics::NegativeAudio negatives;
  metrics::InteractiveEvaluator interactive;
  MethodEvaluation out;
  out.confidence = kGenericConfidence;
  absl::Status status = loader.StartEpoch(epoch, 0);
  while (status.ok()) {
    absl::StatusOr<std::optional<data::SampleBatch>> next = loader.Next();
    if (!next.ok()) {
      status = next.status();
      break;
    }
    if (!next->has_value()) break;
    const std::vector<Sample>& samples = (*next)->samples;
    // Whatever throws on this batch (Localize, the conversion of its outputs, ToEvalMap, the evaluator, the caller's
    // on_sample) becomes an error naming the method, the batch's first keys and the part that threw.
    std::string phase = "Localize";
    try {
      status = EvaluateBatch(method, **next, device, options, evaluator, dependence, negatives, interactive, out,
                             &phase);
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat(
          MethodLabel(options), phase == "Localize" ? " threw in Localize" : "'s evaluation failed in " + phase,
          " on the batch of ", BatchKeys(samples), ": ", e.what()));
    }
  }
  if (!status.ok()) return status;
  out.result = evaluator.Finalize();
  out.audio_dependence = dependence.Finalize();
  out.interactive = interactive.Finalize();
  if (!negatives.empty()) out.negative_audio = negatives.Finalize(out.result, protocol.ciou_threshold, dependence);
  return out;
}

}  // namespace avsl::train
