#include "slavc_confidence.h"

#include <torch/torch.h>

#include <vector>

namespace avsl::plugins::slavc {

torch::Tensor SlavcConfidence(const torch::Tensor& maps, double tau, int64_t size) {
  namespace F = torch::nn::functional;
  torch::Tensor up =
      F::interpolate(
          maps.unsqueeze(1),
          F::InterpolateFuncOptions().size(std::vector<int64_t>{size, size}).mode(torch::kBicubic).align_corners(true))
          .flatten(1);
  const torch::Tensor scores = (up + 1.0 / tau) / (2.0 / tau);
  const int64_t n = scores.size(1);
  const int64_t k = (n + 3) / 4;  // -(-n // 4): numpy's sort(x)[-n//4:] keeps ceil(n/4) values
  return std::get<0>(scores.topk(k, 1)).mean(1);
}

}  // namespace avsl::plugins::slavc
