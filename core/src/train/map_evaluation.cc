#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/metrics/confidence.h"
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
}  // namespace

std::string ConfidenceName(const Localization& localization) {
  return localization.confidence.defined() ? localization.confidence_name : kGenericConfidence;
}

absl::StatusOr<MethodEvaluation> EvaluateMethod(Method& method, data::Loader& loader, uint64_t epoch,
                                                const torch::Device& device, const MapEvaluationOptions& options) {
  const bool was_training = method.is_training();
  method.eval();
  torch::NoGradGuard no_grad;
  const metrics::EvalProtocol& protocol = options.protocol;
  metrics::Evaluator evaluator(protocol);
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
    absl::StatusOr<Batch> batch = Collate(samples, device);
    if (!batch.ok()) {
      status = batch.status();
      break;
    }
    Localization loc;
    torch::Tensor maps, conf;
    try {
      loc = method.Localize(*batch);
      maps = loc.maps.detach().to(torch::kCPU, torch::kDouble).contiguous();
      if (loc.confidence.defined()) conf = loc.confidence.detach().to(torch::kCPU, torch::kDouble).contiguous();
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat(MethodLabel(options), " threw in Localize on the batch of ",
                                                BatchKeys(samples), ": ", e.what()));
      break;
    }
    out.confidence = ConfidenceName(loc);
    if (maps.dim() != 3 || maps.size(0) != static_cast<int64_t>(samples.size())) {
      status = absl::InternalError(absl::StrCat(MethodLabel(options), "'s Localize returned maps of shape ",
                                                c10::str(maps.sizes()), "; expected [", samples.size(), ", h, w]"));
      break;
    }
    for (size_t i = 0; i < samples.size() && status.ok(); ++i) {
      const Sample& s = samples[i];
      Map2D native(static_cast<int>(maps.size(1)), static_cast<int>(maps.size(2)));
      std::memcpy(native.values.data(), maps[static_cast<int64_t>(i)].data_ptr<double>(),
                  native.values.size() * sizeof(double));
      absl::StatusOr<Map2D> map = metrics::ToEvalMap(native, protocol, s.key, loc.range_min, loc.range_max);
      if (!map.ok()) {
        status = map.status();
        break;
      }
      if (s.sounding && (s.gt_map.height != protocol.eval_size || s.gt_map.width != protocol.eval_size)) {
        status = absl::InvalidArgumentError(absl::StrCat("sample '", s.key, "': GT map is ", s.gt_map.height, "x",
                                                         s.gt_map.width, ", expected the ", protocol.eval_size, "x",
                                                         protocol.eval_size, " evaluation grid"));
        break;
      }
      std::optional<double> c;
      if (conf.defined()) c = conf[static_cast<int64_t>(i)].item<double>();
      status = evaluator.Add(s.key, *map, s.gt_map, c, s.sounding);
      if (status.ok() && options.on_sample) {
        status = options.on_sample(s, *map, c ? *c : metrics::TopFractionMean(*map, 0.25));
      }
    }
  }
  if (was_training) method.train();
  if (!status.ok()) return status;
  out.result = evaluator.Finalize();
  return out;
}

}  // namespace avsl::train
