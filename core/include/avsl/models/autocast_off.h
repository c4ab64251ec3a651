// The parts of a loss that bf16 autocast would round too coarsely run in fp32 inside an AutocastOff scope.
// Contrastive logits are cosines divided by a temperature of about 0.03: bf16 keeps 8 bits of mantissa, an error of
// up to 0.004 on a cosine near 1, which becomes 0.13 on a logit — enough to change what a softmax over a batch learns
// (docs/performance.md compares bf16 and fp32 training). The cost is nil next to the encoders.
#pragma once

#include "avsl/core/export.h"

namespace avsl::models {

/// Turns autocast off on CPU and CUDA while in scope and restores the previous state. Inputs made under autocast
/// are bf16: convert them with `.to(torch::kFloat)` inside the scope. With autocast off (amp = "none") it changes
/// nothing, so fp32 runs stay bit-identical.
class AVSL_EXPORT AutocastOff {
 public:
  AutocastOff();
  ~AutocastOff();
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  bool cpu_ = false;
  bool cuda_ = false;
};

}  // namespace avsl::models
