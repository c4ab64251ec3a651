// Builders shared by `avsl train` and `avsl eval`: what a validated recipe says about the runtime, the
// loaders and the evaluation.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/method.h"
#include "avsl/core/metric.h"
#include "avsl/data/loader.h"
#include "avsl/eval/score.h"
#include "avsl/train/map_evaluation.h"

namespace avsl::train {

struct Runtime {
  torch::Device device = torch::kCPU;
  int threads = 1;
  uint64_t seed = 0;
};

/// Reads `device`, `threads` (0 = all cores) and `seed`, and applies the thread count to LibTorch (which
/// defaults to one thread on this kind of VM).
absl::StatusOr<Runtime> ApplyRuntime(const ComponentConfig& root);

/// The loader of `data.<split>`; null when the recipe has no such dataset. `train` turns on shuffling,
/// drop_last and training-time augmentation. With world_size > 1 it loads rank `rank`'s shard of every epoch:
/// `data.shard_tail` for training (every rank the same number of batches, empty batches returned), uneven for
/// evaluation.
absl::StatusOr<std::unique_ptr<data::Loader>> BuildLoader(const ComponentConfig& root, const std::string& split,
                                                          bool train, uint64_t seed, const ComponentRegistry& registry,
                                                          size_t rank = 0, size_t world_size = 1);

/// The recipe's `model`, built right after seeding LibTorch with `seed` and moved to `device`: the step-0 weights
/// training starts from. The trainer and `avsl eval` (`--untrained`, and before loading a checkpoint) both build it
/// here, so the untrained control is the trainer's initial model.
absl::StatusOr<std::shared_ptr<Method>> BuildSeededMethod(const ComponentConfig& root, uint64_t seed,
                                                          const torch::Device& device,
                                                          const ComponentRegistry& registry);

/// The evaluation protocol of the recipe's `[eval]` table (eval.<field> for every field of metrics::EvalProtocol
/// but eval_size, which is the reference 224).
absl::StatusOr<metrics::EvalProtocol> EvalProtocolFromRecipe(const ComponentConfig& root);

/// The recipe's `eval.metrics` components.
absl::StatusOr<std::vector<std::shared_ptr<Metric>>> BuildExtraMetrics(const ComponentConfig& root,
                                                                       const ComponentRegistry& registry);
std::map<std::string, double> ComputeExtraMetrics(const std::vector<std::shared_ptr<Metric>>& metrics,
                                                  const metrics::EvalResult& result);

}  // namespace avsl::train
