// Importing PyTorch state dicts from torch.save files (no Python needed) and exporting avsl weights as
// files Python's torch.load reads. See docs/checkpoints.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Forward declarations keep LibTorch out of this header; callers that use the tensors include torch.
namespace at {
class Tensor;
}  // namespace at
namespace torch::nn {
class Module;
}  // namespace torch::nn

namespace avsl::checkpoint {

/// Parameter/buffer name -> tensor, in file (or module) order. Tensors are CPU and do not require grad.
using StateDict = std::vector<std::pair<std::string, at::Tensor>>;

struct StateDictOptions {
  /// Where the state dict sits in the file: "" = detect (the top level when it holds tensors, else the
  /// first of state_dict, model_state_dict, model, net, network, module, model_state, params, weights that
  /// holds a dict of tensors, else the only nested dict of tensors); otherwise a '/'-separated path of
  /// dict keys, e.g. "model" or "checkpoint/state_dict".
  std::string key;
  /// Stripped from the start of every key that has them (repeatedly, in any order): DistributedDataParallel
  /// / DataParallel wrap a model as `module`, torch.compile as `_orig_mod`.
  std::vector<std::string> strip_prefixes = {"module.", "_orig_mod."};
  /// See ReadOptions in checkpoint_archive.h.
  bool allow_unknown_globals = false;
  bool verify_crc = true;
};

/// What LoadStateDict did, for logs.
struct StateDictInfo {
  std::string source_key;            ///< Path of the dict used ("" = top level).
  bool auto_detected = false;        ///< source_key was found by detection rather than given.
  std::vector<std::string> ignored;  ///< Non-tensor entries of that dict, as "name (description)".
  int64_t prefixes_stripped = 0;     ///< Keys that lost a strip_prefixes prefix.
};

/// Reads the state dict of a torch.save file with the default options.
absl::StatusOr<StateDict> LoadStateDict(const std::string& path);

/// Reads the state dict of a torch.save file: a dict or OrderedDict of tensors (Module.state_dict() with its
/// _metadata), possibly nested in a checkpoint dict. Non-tensor entries are skipped (listed in `info`).
/// Tensors are copied out of the file (views of a shared storage become separate tensors with the same
/// values). Errors name the file and, for a missing/ambiguous state dict, list the top-level entries.
absl::StatusOr<StateDict> LoadStateDict(const std::string& path, const StateDictOptions& options,
                                        StateDictInfo* info = nullptr);

/// Writes `state_dict` so that Python's `torch.load(path)` returns a plain dict of CPU tensors in the same
/// order (contiguous copies; float32/64, float16, bfloat16, int8/16/32/64, uint8 and bool). The file is
/// written to a temporary name and renamed. Fails naming the key for an undefined, sparse or
/// unsupported-dtype tensor, and for duplicate keys.
absl::Status SaveStateDictForPython(const std::string& path, const StateDict& state_dict);

/// The module's parameters and buffers under the names and in the order PyTorch's Module.state_dict() uses
/// (each module's own parameters, then its buffers, then its children depth-first). The tensors alias the
/// module's.
StateDict ModuleStateDict(const torch::nn::Module& module);

/// The tensor named `name`, or nullptr.
const at::Tensor* FindTensor(const StateDict& state_dict, const std::string& name);

}  // namespace avsl::checkpoint
