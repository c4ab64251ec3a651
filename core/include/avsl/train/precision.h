// Mixed precision and memory format, as the recipe's `amp` and `channels_last` ask.
#pragma once

#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"

namespace avsl {
class Method;
}

namespace avsl::train {

/// kAuto: bf16 where the hardware computes it natively, fp32 elsewhere (ResolvePrecision).
enum class Amp { kNone, kBf16, kAuto };
/// "none", "bf16" or "auto".
absl::StatusOr<Amp> ParseAmp(const std::string& name);

/// Why bf16 is native here, or "" when it is not: "CUDA", "the CPU has AMX-BF16" or "the CPU has AVX512-BF16"
/// (cpuid, with the OS saving the registers those instructions use; oneDNN runs bf16 convolutions and matrix
/// products on them). CUDA counts as native whatever the GPU; GPUs before Ampere emulate bf16 slowly, so set
/// amp = "none" there.
std::string NativeBf16Reason(const torch::Device& device);

/// The recipe's `amp` and `channels_last` as a run applies them: "auto" becomes bf16 autocast + channels_last
/// where NativeBf16Reason is not empty, else none with the recipe's channels_last.
struct Precision {
  Amp amp = Amp::kNone;  ///< kNone or kBf16
  bool channels_last = false;
  std::string description;  ///< e.g. "bf16 autocast, channels_last (amp = \"auto\": the CPU has AVX512-BF16)"
};
Precision ResolvePrecision(Amp requested, bool channels_last, const torch::Device& device);
/// ResolvePrecision of a recipe's root `amp` and `channels_last` (what the trainer and `avsl bench` apply).
absl::StatusOr<Precision> PrecisionFromRecipe(const ComponentConfig& root, const torch::Device& device);

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
