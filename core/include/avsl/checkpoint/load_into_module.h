// Copying an imported state dict into a torch::nn::Module by name, with prefix renames for checkpoints
// whose names differ from avsl's (per-plugin key maps), and a report of everything that did not match.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/checkpoint/state_dict.h"

namespace avsl::checkpoint {

struct LoadOptions {
  /// Strict: any missing key, unexpected key or shape conflict fails the load and nothing is copied.
  /// Non-strict: matching tensors are copied, the rest is reported.
  bool strict = true;
  /// Renames checkpoint keys: (checkpoint prefix, module prefix) pairs, the first pair whose prefix
  /// matches wins. {"", "image_encoder."} puts a whole torchvision ResNet under `image_encoder`;
  /// {"backbone.", ""} lifts a sub-network out.
  std::vector<std::pair<std::string, std::string>> key_map;
  /// Checkpoint keys starting with one of these (before key_map) are skipped, e.g. "fc." for a classifier
  /// head the module does not have.
  std::vector<std::string> ignore_checkpoint_prefixes;
  /// Module keys starting with one of these may stay uninitialized even when strict, e.g. a new head.
  std::vector<std::string> allow_missing_prefixes;
  /// Names the checkpoint in messages (usually its path).
  std::string source = "state dict";
};

struct ShapeConflict {
  std::string key;  ///< Module key.
  std::vector<int64_t> checkpoint_shape;
  std::vector<int64_t> module_shape;
};

struct LoadReport {
  std::vector<std::string> loaded;           ///< Module keys with a matching tensor (not copied if strict fails).
  std::vector<std::string> missing;          ///< Module keys nothing was loaded into (not allowed).
  std::vector<std::string> allowed_missing;  ///< Missing but under allow_missing_prefixes.
  std::vector<std::string> unexpected;       ///< Checkpoint keys (as in the state dict) the module lacks.
  std::vector<std::string> ignored;          ///< Checkpoint keys under ignore_checkpoint_prefixes.
  std::vector<ShapeConflict> shape_conflicts;
  std::vector<std::pair<std::string, std::string>> renamed;  ///< (checkpoint key, module key) by key_map.

  /// No missing (beyond those allowed), unexpected or conflicting keys.
  bool complete() const { return missing.empty() && unexpected.empty() && shape_conflicts.empty(); }
  /// Counts and the offending keys (at most `max_listed` per list), plus a key_map hint when missing and
  /// unexpected keys differ only by a prefix.
  std::string ToString(size_t max_listed = 20) const;
};

/// Copies `state_dict` into `module`'s parameters and buffers (under torch::NoGradGuard, converting dtype
/// and device as Tensor::copy_ does). In strict mode a mismatch returns an error whose message is
/// "<source> does not match the module: " + report.ToString(); non-strict returns the report. Keys that
/// collide after key_map are always an error.
absl::StatusOr<LoadReport> LoadIntoModule(torch::nn::Module& module, const StateDict& state_dict,
                                          const LoadOptions& options = {});

}  // namespace avsl::checkpoint
