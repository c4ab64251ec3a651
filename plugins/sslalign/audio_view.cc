#include "audio_view.h"

#include <cmath>

#include <torch/torch.h>

namespace avsl::plugins::sslalign {
namespace {

// A span of width U{0, ..., floor(fraction * size)} at a uniform start.
std::pair<int64_t, int64_t> Span(int64_t size, double fraction) {
  const auto widest = static_cast<int64_t>(std::floor(fraction * static_cast<double>(size)));
  if (widest <= 0) return {0, 0};
  const int64_t width = torch::randint(0, widest + 1, {1}, torch::kLong).item<int64_t>();
  const int64_t start = torch::randint(0, size - width + 1, {1}, torch::kLong).item<int64_t>();
  return {start, start + width};
}

}  // namespace

torch::Tensor MaskSpectrogram(const torch::Tensor& audio, double time_fraction, double freq_fraction) {
  TORCH_CHECK(audio.dim() == 4, "MaskSpectrogram: expected spectrograms [B,1,F,T], got ", audio.sizes());
  torch::NoGradGuard no_grad;
  torch::Tensor out = audio.clone();
  for (int64_t i = 0; i < out.size(0); ++i) {
    torch::Tensor s = out[i];
    const torch::Tensor floor = s.min();
    const auto [t0, t1] = Span(s.size(2), time_fraction);
    const auto [f0, f1] = Span(s.size(1), freq_fraction);
    if (t1 > t0) s.slice(2, t0, t1).fill_(floor);
    if (f1 > f0) s.slice(1, f0, f1).fill_(floor);
  }
  return out;
}

}  // namespace avsl::plugins::sslalign
