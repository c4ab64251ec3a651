#include <torch/torch.h>

#include <cmath>

#include "avsl/models/model_ops.h"

namespace avsl::models {

torch::Tensor PooledAudioVector(const torch::Tensor& audio, const std::string& who) {
  if (audio.dim() == 4) {
    TORCH_CHECK(audio.size(2) * audio.size(3) == 1, who, ": the audio encoder returned a ", audio.sizes(),
                " map; it must return a pooled vector [B,C] or [B,C,1,1] (set audio_encoder.pool = \"max\", the "
                "reference)");
    return audio.flatten(1);
  }
  TORCH_CHECK(audio.dim() == 2, who, ": the audio encoder returned a ", audio.sizes(),
              " tensor; it must return a pooled vector [B,C] or [B,C,1,1]");
  return audio;
}

void TruncNormal_(torch::Tensor& t, double mean, double std, double a, double b) {
  torch::NoGradGuard no_grad;
  auto norm_cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double l = norm_cdf((a - mean) / std);
  const double u = norm_cdf((b - mean) / std);
  t.uniform_(2 * l - 1, 2 * u - 1);
  t.erfinv_();
  t.mul_(std * std::sqrt(2.0));
  t.add_(mean);
  t.clamp_(a, b);
}

torch::Tensor MinMaxPerSample(const torch::Tensor& maps) {
  const torch::Tensor flat = maps.flatten(1);
  const torch::Tensor lo = std::get<0>(flat.min(1)).view({-1, 1, 1});
  const torch::Tensor hi = std::get<0>(flat.max(1)).view({-1, 1, 1});
  const torch::Tensor span = hi - lo;
  // where() keeps a flat sample as is; the clamp only keeps its (unused) branch free of 0/0.
  return torch::where(span == 0, maps, (maps - lo) / span.clamp_min(1e-12));
}

torch::Tensor MarginContrastiveLoss(const torch::Tensor& d2, const torch::Tensor& y, double margin,
                                    const std::string& who) {
  TORCH_CHECK(d2.dim() == 1 && d2.sizes() == y.sizes(), who, ": expected d2 [N] and y [N], got ", d2.sizes(), " and ",
              y.sizes());
  const torch::Tensor yf = y.to(d2.dtype());
  return (0.5 * (yf * d2 + (1 - yf) * torch::relu(margin - (d2 + 1e-9).sqrt()).pow(2))).mean();
}

}  // namespace avsl::models
