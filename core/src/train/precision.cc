#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <cstdint>
#include <string>

#include "avsl/core/method.h"
#include "avsl/train/precision.h"

namespace avsl::train {

absl::StatusOr<Amp> ParseAmp(const std::string& name) {
  if (name == "none") return Amp::kNone;
  if (name == "bf16") return Amp::kBf16;
  if (name == "auto") return Amp::kAuto;
  return absl::InvalidArgumentError("amp: expected none, bf16 or auto, found '" + name + "'");
}

namespace {

#if defined(__x86_64__)
// CPUID leaf 7: sub-leaf 0 EDX bit 22 is AMX-BF16 (with AMX-TILE, bit 24), sub-leaf 1 EAX bit 5 is AVX512-BF16.
// XCR0 says which register states the OS saves: bits 5-7 the AVX-512 ones, 17-18 the AMX tiles.
std::string CpuBf16Reason() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return "";
  __cpuid(1, eax, ebx, ecx, edx);
  if ((ecx & (1u << 27)) == 0) return "";  // OSXSAVE: XGETBV is usable
  uint32_t xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const uint64_t xcr0 = (static_cast<uint64_t>(xcr0_hi) << 32) | xcr0_lo;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool amx = (edx & (1u << 22)) != 0 && (edx & (1u << 24)) != 0;
  if (amx && (xcr0 & (3ull << 17)) == (3ull << 17)) return "the CPU has AMX-BF16";
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  if ((eax & (1u << 5)) != 0 && (xcr0 & 0xE0) == 0xE0) return "the CPU has AVX512-BF16";
  return "";
}
#else
std::string CpuBf16Reason() { return ""; }
#endif

}  // namespace

std::string NativeBf16Reason(const torch::Device& device) { return device.is_cuda() ? "CUDA" : CpuBf16Reason(); }

Precision ResolvePrecision(Amp requested, bool channels_last, const torch::Device& device) {
  Precision p;
  p.channels_last = channels_last;
  std::string why;
  if (requested == Amp::kAuto) {
    const std::string reason = NativeBf16Reason(device);
    if (reason.empty()) {
      why = " (amp = \"auto\": no native bf16 on " + device.str() + ", so fp32)";
    } else {
      p.amp = Amp::kBf16;
      p.channels_last = true;
      why = " (amp = \"auto\": " + reason + ")";
    }
  } else {
    p.amp = requested;
  }
  p.description = std::string(p.amp == Amp::kBf16 ? "bf16 autocast" : "fp32") +
                  (p.channels_last ? ", channels_last" : ", contiguous") + why;
  return p;
}

absl::StatusOr<Precision> PrecisionFromRecipe(const ComponentConfig& root, const torch::Device& device) {
  absl::StatusOr<Amp> amp = ParseAmp(root.GetString("amp"));
  if (!amp.ok()) return amp.status();
  return ResolvePrecision(*amp, root.GetBool("channels_last"), device);
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
