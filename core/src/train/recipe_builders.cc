#include <torch/torch.h>

#include <thread>

#include "avsl/core/dataset.h"
#include "avsl/core/status_macros.h"
#include "avsl/core/transform.h"
#include "avsl/train/recipe_builders.h"

namespace avsl::train {

absl::StatusOr<Runtime> ApplyRuntime(const ComponentConfig& root) {
  Runtime r;
  r.seed = static_cast<uint64_t>(root.GetInt("seed"));
  r.threads = static_cast<int>(root.GetInt("threads"));
  if (r.threads == 0) r.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(r.threads);
  const std::string dev = root.GetString("device");
  if (dev == "cuda" && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError("recipe key 'device' = \"cuda\" but this LibTorch has no CUDA device");
  }
  r.device = (dev == "cuda" || (dev == "auto" && torch::cuda::is_available())) ? torch::Device(torch::kCUDA)
                                                                               : torch::Device(torch::kCPU);
  return r;
}

absl::StatusOr<std::shared_ptr<Method>> BuildSeededMethod(const ComponentConfig& root, uint64_t seed,
                                                          const torch::Device& device,
                                                          const ComponentRegistry& registry) {
  // Same seed, same initial weights: nothing may draw from LibTorch's generator between the seed and the build.
  torch::manual_seed(seed);
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Method> method, registry.Build<Method>(root.Sub("model")));
  method->to(device);
  return method;
}

absl::StatusOr<std::unique_ptr<data::Loader>> BuildLoader(const ComponentConfig& root, const std::string& split,
                                                          bool train, uint64_t seed, const ComponentRegistry& registry,
                                                          size_t rank, size_t world_size) {
  ComponentConfig data = root.Sub("data");
  if (!data.Has(split)) return std::unique_ptr<data::Loader>();
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Dataset> dataset, registry.Build<Dataset>(data.Sub(split)));
  if (dataset->size() == 0) return absl::InvalidArgumentError("data." + split + " is empty");
  data::LoaderOptions o;
  o.batch_size = static_cast<size_t>(data.GetInt(train ? "batch_size" : "eval_batch_size"));
  o.workers = static_cast<size_t>(data.GetInt("workers"));
  o.prefetch = static_cast<size_t>(data.GetInt("prefetch"));
  o.shuffle = train;
  o.rank = rank;
  o.world_size = world_size;
  if (world_size > 1) {
    if (train) {
      AVSL_ASSIGN_OR_RETURN(o.shard_tail, data::ParseShardTail(data.GetString("shard_tail")));
      o.return_empty_batches = true;
    } else {
      o.shard_tail = data::ShardTail::kUneven;
    }
  }
  o.drop_last = train && dataset->size() / world_size >= o.batch_size;
  o.seed = seed;
  o.train = train;
  AVSL_ASSIGN_OR_RETURN(o.on_error, data::ParseOnError(data.GetString("on_error")));
  for (const ComponentConfig& c : data.SubArray("transforms")) {
    AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Transform> transform, registry.Build<Transform>(c));
    o.transforms.push_back(std::move(transform));
  }
  return data::Loader::Create(std::move(dataset), o);
}

absl::StatusOr<metrics::EvalProtocol> EvalProtocolFromRecipe(const ComponentConfig& root) {
  const ComponentConfig ev = root.Sub("eval");
  metrics::EvalProtocol p;
  AVSL_ASSIGN_OR_RETURN(p.upsample, metrics::ParseUpsampleMode(ev.GetString("upsample")));
  p.align_corners = ev.GetBool("align_corners");
  AVSL_ASSIGN_OR_RETURN(p.pred_mode, metrics::ParsePredMode(ev.GetString("pred_mode")));
  p.topk_percent = ev.GetFloat("topk_percent");
  p.pred_threshold = ev.GetFloat("pred_threshold");
  p.ciou_threshold = ev.GetFloat("ciou_threshold");
  p.bootstrap_resamples = static_cast<int>(ev.GetInt("bootstrap_resamples"));
  return p;
}

absl::StatusOr<std::vector<std::shared_ptr<Metric>>> BuildExtraMetrics(const ComponentConfig& root,
                                                                       const ComponentRegistry& registry) {
  std::vector<std::shared_ptr<Metric>> out;
  for (const ComponentConfig& c : root.Sub("eval").SubArray("metrics")) {
    AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Metric> metric, registry.Build<Metric>(c));
    out.push_back(std::move(metric));
  }
  return out;
}

std::map<std::string, double> ComputeExtraMetrics(const std::vector<std::shared_ptr<Metric>>& metrics,
                                                  const metrics::EvalResult& result) {
  std::map<std::string, double> out;
  for (const auto& metric : metrics)
    for (const auto& [k, v] : metric->Compute(result)) out[k] = v;
  return out;
}

}  // namespace avsl::train
