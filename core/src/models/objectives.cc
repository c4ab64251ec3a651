#include "avsl/models/objectives.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

#include "avsl/models/autocast_off.h"

namespace avsl::models {
namespace {

namespace F = torch::nn::functional;

// F.cross_entropy(logits, offset + arange(n)) with mean reduction, written as the diagonal of log_softmax.
torch::Tensor DiagonalCrossEntropy(const torch::Tensor& logits, int64_t offset) {
  return -torch::log_softmax(logits, 1).diagonal(offset).mean();
}

}  // namespace

// Similarities divided by a temperature are computed in fp32 even under bf16 autocast (avsl/models/autocast_off.h).
torch::Tensor AllPairSimilarity(const torch::Tensor& v, const torch::Tensor& a, double tau) {
  AutocastOff fp32;
  const bool wide = v.scalar_type() == torch::kDouble && a.scalar_type() == torch::kDouble;
  return torch::einsum("nchw,mc->nmhw", {wide ? v : v.to(torch::kFloat), wide ? a : a.to(torch::kFloat)}) / tau;
}

torch::Tensor PairSimilarity(const torch::Tensor& v, const torch::Tensor& a, double tau) {
  AutocastOff fp32;
  const bool wide = v.scalar_type() == torch::kDouble && a.scalar_type() == torch::kDouble;
  return torch::einsum("nchw,nc->nhw", {wide ? v : v.to(torch::kFloat), wide ? a : a.to(torch::kFloat)}) / tau;
}

torch::Tensor MaxMilLogits(const torch::Tensor& v, const torch::Tensor& a, double tau) {
  TORCH_CHECK(v.dim() == 4 && a.dim() == 2 && v.size(1) == a.size(1),
              "MaxMilLogits: expected v [N,C,h,w] and a [M,C] with the same C, got ", v.sizes(), " and ", a.sizes());
  return std::get<0>(AllPairSimilarity(v, a, tau).flatten(2).max(2));
}

torch::Tensor SymmetricInfoNce(const torch::Tensor& logits) {
  TORCH_CHECK(logits.dim() == 2 && logits.size(0) == logits.size(1),
              "SymmetricInfoNce: expected square logits [N,N] (the positives on the diagonal), got ", logits.sizes());
  const torch::Tensor labels = torch::arange(logits.size(0), logits.options().dtype(torch::kLong));
  return F::cross_entropy(logits, labels) + F::cross_entropy(logits.t(), labels);
}

torch::Tensor ShardedSymmetricInfoNce(const torch::Tensor& image_logits, const torch::Tensor& audio_logits,
                                      int64_t offset) {
  TORCH_CHECK(image_logits.dim() == 2 && image_logits.sizes() == audio_logits.sizes() && offset >= 0 &&
                  offset + image_logits.size(0) <= image_logits.size(1),
              "ShardedSymmetricInfoNce: expected image and audio logits [n,N] of the same shape with rows offset..",
              "offset+n inside the N columns, got ", image_logits.sizes(), ", ", audio_logits.sizes(), " and offset ",
              offset);
  const torch::Tensor labels = torch::arange(offset, offset + image_logits.size(0),
                                             image_logits.options().dtype(torch::kLong));
  return F::cross_entropy(image_logits, labels) + F::cross_entropy(audio_logits, labels);
}

torch::Tensor MilContrastiveLoss(const torch::Tensor& v, const torch::Tensor& a, double tau) {
  TORCH_CHECK(v.dim() == 4 && a.dim() == 2 && v.size(0) == a.size(0) && v.size(1) == a.size(1),
              "MilContrastiveLoss: expected v [N,C,h,w] and a [N,C], got ", v.sizes(), " and ", a.sizes());
  return SymmetricInfoNce(MaxMilLogits(v, a, tau));
}

std::vector<std::pair<std::string, double>> CosineDiagnostics(const torch::Tensor& logits, double tau, int64_t offset) {
  torch::NoGradGuard no_grad;
  const torch::Tensor cos = logits.detach().to(torch::kFloat64) * tau;
  std::vector<std::pair<std::string, double>> logs = {{"pos_cos", cos.diagonal(offset).mean().item<double>()}};
  if (cos.size(1) < 2) return logs;
  // The positives are pushed below every cosine so the row maximum is the hardest negative.
  const torch::Tensor positive = torch::zeros(cos.sizes(), cos.options().dtype(torch::kBool));
  positive.diagonal(offset).fill_(true);
  logs.emplace_back("neg_cos", std::get<0>(cos.masked_fill(positive, -2.0).max(1)).mean().item<double>());
  return logs;
}

torch::Tensor TwoHeadPairLogits(const torch::Tensor& img_a, const torch::Tensor& aud_a, const torch::Tensor& img_b,
                                const torch::Tensor& aud_b, double tau) {
  // s[n,m,k] = <img[n,:,k], aud[m]> / τ with k the flattened h×w location, in fp32 under autocast too.
  AutocastOff fp32;
  const torch::Tensor s1 = AllPairSimilarity(img_a, aud_a, tau).flatten(2);
  const torch::Tensor s2 = AllPairSimilarity(img_b, aud_b, tau).flatten(2);
  // P1: over audios (dim 1); P2: over locations (dim 2). log Σ_k P1·P2 = logsumexp_k(log P1 + log P2), which
  // stays finite where a product of probabilities underflows.
  return torch::logsumexp(torch::log_softmax(s1, 1) + torch::log_softmax(s2, 2), 2);
}

AsymmetricLossTerms AsymmetricContrastiveLoss(const TwoHeadFeatures& online, const TwoHeadFeatures& target, double tau,
                                              int64_t rows_offset) {
  // One process (rows_offset < 0): images and audios pair one to one. Rows of a global batch: this rank's images
  // against every rank's audios.
  const int64_t n = online.img1.size(0), m = online.aud1.size(0), offset = std::max<int64_t>(rows_offset, 0);
  TORCH_CHECK((rows_offset < 0 ? n == m : offset + n <= m) && m == target.aud1.size(0),
              "AsymmetricContrastiveLoss: ", n, " images vs ", m, " online and ", target.aud1.size(0),
              " target audios (rows offset ", rows_offset,
              "); image n's positive is audio n, or audio offset + n for a rank's rows of a global batch");
  AsymmetricLossTerms t;
  t.offset = offset;
  t.i2a = TwoHeadPairLogits(online.img1, target.aud1, online.img2, target.aud2, tau);
  t.a2i = TwoHeadPairLogits(target.img1, online.aud1, target.img2, online.aud2, tau);
  t.total = DiagonalCrossEntropy(t.a2i, offset) + DiagonalCrossEntropy(t.i2a, offset);
  return t;
}

torch::Tensor TwoHeadMap(const TwoHeadFeatures& f, double tau) {
  AutocastOff fp32;
  const torch::Tensor s1 = PairSimilarity(f.img1, f.aud1, tau);
  const torch::Tensor s2 = PairSimilarity(f.img2, f.aud2, tau);
  return (s1 + s2) / 2;
}

}  // namespace avsl::models
