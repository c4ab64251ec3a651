// Mixed precision and memory format, as the recipe's `amp` and `channels_last` ask.
#pragma once

#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace avsl {
class Method;
}

namespace avsl::train {

enum class Amp { kNone, kBf16 };
absl::StatusOr<Amp> ParseAmp(const std::string& name);

/// bf16 autocast for the forward pass on `device` while in scope (CUDA or CPU); nothing when amp is kNone.
/// Backward runs outside the scope, as PyTorch recommends.
class AutocastScope {
 public:
  AutocastScope(Amp amp, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
};

/// Converts the method's 4-D parameters (convolution weights) to channels_last.
void ToChannelsLast(Method& method);

}  // namespace avsl::train
