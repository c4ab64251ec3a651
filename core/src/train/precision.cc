#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#include "avsl/core/method.h"
#include "avsl/train/precision.h"

namespace avsl::train {

absl::StatusOr<Amp> ParseAmp(const std::string& name) {
  if (name == "none") return Amp::kNone;
  if (name == "bf16") return Amp::kBf16;
  return absl::InvalidArgumentError("amp: expected none or bf16, found '" + name + "'");
}

// The autocast API moved to per-device-type functions in LibTorch 2.4; both spellings are kept so the same
// code builds against Debian's 1.13 and a current PyTorch.
AutocastScope::AutocastScope(Amp amp, const torch::Device& device) {
  if (amp == Amp::kNone) return;
  active_ = true;
  cuda_ = device.is_cuda();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  const at::DeviceType type = cuda_ ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, true);
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
#else
  if (cuda_) {
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  } else {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
#endif
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(cuda_ ? at::kCUDA : at::kCPU, false);
#else
  if (cuda_) {
    at::autocast::set_enabled(false);
  } else {
    at::autocast::set_cpu_enabled(false);
  }
#endif
  at::autocast::clear_cache();
}

void ToChannelsLast(Method& method) {
  torch::NoGradGuard no_grad;
  for (auto& p : method.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace avsl::train
