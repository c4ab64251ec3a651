// Weights a method's authors released, in their own torch.save layout (zip or legacy), loaded into an avsl method
// through the recipe's [weights] table: where the state dict sits in the file, which prefixes to strip, how keys
// are renamed, what the file may carry that the method lacks and the other way round. `avsl eval --weights` uses
// it; each method family ships its table as recipes/<method>/_released_weights.toml (docs/model_zoo.md).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/core/component_config.h"

namespace avsl::train {

struct WeightsLayout {
  std::string entry;                                        ///< dict path of the state dict; "" = found by name
  std::vector<std::string> strip_prefixes;                  ///< removed from every key first
  std::vector<std::pair<std::string, std::string>> rename;  ///< (file prefix, method prefix), first match wins
  std::vector<std::string> ignore;                          ///< file key prefixes skipped
  std::vector<std::string> allow_missing;                   ///< method key prefixes that may stay as built
};

/// The recipe's [weights] table; a rename entry that is not "FROM=TO" is an error naming it.
absl::StatusOr<WeightsLayout> WeightsLayoutFromRecipe(const ComponentConfig& root);

struct ReleasedWeightsLoad {
  checkpoint::StateDictInfo file;  ///< where the state dict was found, what was stripped
  checkpoint::LoadReport report;   ///< what matched
};

/// Reads `path` and copies it into `module` strictly: a missing, unexpected or differently shaped tensor fails
/// the load, copies nothing, and the error carries the load report (counts, keys, a rename hint).
absl::StatusOr<ReleasedWeightsLoad> LoadReleasedWeights(const std::string& path, const WeightsLayout& layout,
                                                        torch::nn::Module& module);

/// One line for the log: the file, the entry used, keys stripped/renamed/ignored and tensors loaded.
std::string DescribeReleasedWeightsLoad(const std::string& path, const ReleasedWeightsLoad& load);

}  // namespace avsl::train
