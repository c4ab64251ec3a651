// Full training state in one file: model, extra losses, optimizer, train state, RNG state and the resolved
// recipe. Written atomically (temporary file + rename): a crash during a save leaves the previous file intact.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/loss.h"
#include "avsl/core/method.h"

namespace avsl::checkpoint {

/// Where training stands; also written as train_state.json for people.
struct TrainState {
  long long epoch = 0;           ///< epoch in progress (or the next one when epoch_done)
  long long batch_in_epoch = 0;  ///< batches of `epoch` already consumed
  /// Positions of `epoch`'s sample order already consumed by all ranks together (the resume point: it does not
  /// depend on the world size). -1 in checkpoints written before it existed: batch_in_epoch × data.batch_size.
  long long samples_in_epoch = -1;
  long long world_size = 1;    ///< processes of the invocation that saved it (for people; resume may change it)
  long long global_step = 0;   ///< optimizer steps so far
  std::string monitor;         ///< e.g. "val.ap"
  double best_value = -1e300;  ///< best monitored value so far
  long long best_epoch = -1;
  bool finished = false;  ///< all epochs done

  std::string ToJson() const;
  static absl::StatusOr<TrainState> FromJson(const std::string& json);
};

struct CheckpointContents {
  Method* method = nullptr;
  std::vector<std::shared_ptr<Loss>> losses;
  torch::optim::Optimizer* optimizer = nullptr;  ///< may be null (weights-only files)
  TrainState state;
  std::string recipe_toml;
};

absl::Status SaveCheckpoint(const std::string& path, const CheckpointContents& contents);
/// Restores everything present in `contents` (method and losses by parameter name, optimizer state, the
/// default CPU generator's state); fills `state` and `recipe_toml`. Errors name the file and the key.
absl::Status LoadCheckpoint(const std::string& path, CheckpointContents& contents);
/// Weights only (for --init-from and eval): the method's parameters and buffers by name.
absl::Status LoadMethodWeights(const std::string& path, Method& method);
/// The resolved recipe stored inside a checkpoint.
absl::StatusOr<std::string> ReadCheckpointRecipe(const std::string& path);

}  // namespace avsl::checkpoint
