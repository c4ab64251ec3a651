#include "alignment_loss.h"

#include <vector>

#include <torch/torch.h>

#include "avsl/models/autocast_off.h"
#include "avsl/models/objectives.h"

namespace avsl::plugins::sslalign {
namespace {

// ½ (CE(S, I) + CE(Sᵀ, I)), S = g · aᵀ / tau, in float32 at least (as the SDK's contrastive logits).
torch::Tensor Alignment(const torch::Tensor& g, const torch::Tensor& a, double tau) {
  models::AutocastOff fp32;
  const bool wide = g.scalar_type() == torch::kDouble && a.scalar_type() == torch::kDouble;
  const torch::Tensor gg = wide ? g : g.to(torch::kFloat), aa = wide ? a : a.to(torch::kFloat);
  return 0.5 * models::SymmetricInfoNce(gg.matmul(aa.t()) / tau);
}

torch::Tensor Localization(const torch::Tensor& maps, const torch::Tensor& audio, const models::LvsLossOptions& o,
                           torch::Tensor* positive = nullptr) {
  models::LvsLossTerms t = models::LvsLoss(models::AllPairSimilarity(maps, audio, 1.0), o);
  if (positive != nullptr) *positive = t.positive;
  return t.loss;
}

}  // namespace

AlignmentLossTerms AlignmentLoss(const AlignmentInputs& in, const AlignmentLossOptions& o) {
  TORCH_CHECK(!in.image_maps.empty() && in.image_maps.size() == in.images.size() && !in.audios.empty(),
              "AlignmentLoss: expected at least one image view (maps and global embedding) and one audio view, got ",
              in.image_maps.size(), " maps, ", in.images.size(), " global embeddings, ", in.audios.size(), " audios");
  AlignmentLossTerms t;
  std::vector<torch::Tensor> loc, align;
  for (size_t p = 0; p < in.image_maps.size(); ++p) {
    for (size_t q = 0; q < in.audios.size(); ++q) {
      loc.push_back(Localization(in.image_maps[p], in.audios[q], o.lvs, p == 0 && q == 0 ? &t.positive : nullptr));
      align.push_back(Alignment(in.images[p], in.audios[q], o.alignment_temperature));
    }
  }
  if (in.neighbour_image.defined()) {
    const int64_t b = in.images[0].size(0);
    TORCH_CHECK(in.neighbour_image.size(0) == b && in.neighbour_audio.size(0) == b, "AlignmentLoss: ", b, " rows but ",
                in.neighbour_image.size(0), " neighbour images and ", in.neighbour_audio.size(0), " neighbour audios");
    const torch::Tensor nn_image = in.neighbour_image.to(in.images[0].options());
    const torch::Tensor nn_audio = in.neighbour_audio.to(in.audios[0].options());
    // Image 1 localizes and aligns with its neighbour's sound; the neighbour's image aligns with the sound.
    loc.push_back(Localization(in.image_maps[0], nn_audio, o.lvs));
    align.push_back(Alignment(in.images[0], nn_audio, o.alignment_temperature));
    align.push_back(Alignment(nn_image, in.audios[0], o.alignment_temperature));
  }
  t.localization_pairs = static_cast<int64_t>(loc.size());
  t.alignment_pairs = static_cast<int64_t>(align.size());
  t.localization = torch::stack(loc).mean();
  t.alignment = torch::stack(align).mean();
  t.total = t.localization + o.alignment_weight * t.alignment;
  return t;
}

}  // namespace avsl::plugins::sslalign
