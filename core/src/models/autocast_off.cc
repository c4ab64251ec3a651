#include "avsl/models/autocast_off.h"

#include <torch/torch.h>

#include <ATen/autocast_mode.h>

namespace avsl::models {
namespace {

// The autocast API moved to per-device-type functions in LibTorch 2.4 (as in avsl/train/precision.cc).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool CpuEnabled() { return at::autocast::is_autocast_enabled(at::kCPU); }
bool CudaEnabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
void SetCpu(bool on) { at::autocast::set_autocast_enabled(at::kCPU, on); }
void SetCuda(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
#else
bool CpuEnabled() { return at::autocast::is_cpu_enabled(); }
bool CudaEnabled() { return at::autocast::is_enabled(); }
void SetCpu(bool on) { at::autocast::set_cpu_enabled(on); }
void SetCuda(bool on) { at::autocast::set_enabled(on); }
#endif

}  // namespace

AutocastOff::AutocastOff() : cpu_(CpuEnabled()), cuda_(CudaEnabled()) {
  if (cpu_) SetCpu(false);
  if (cuda_) SetCuda(false);
}

AutocastOff::~AutocastOff() {
  if (cpu_) SetCpu(true);
  if (cuda_) SetCuda(true);
}

}  // namespace avsl::models
