// A minimal but complete avsl method: pooled image patches and a pooled spectrogram are projected into a
// shared space; the map is their cosine similarity at every location; the loss is a symmetric
// InfoNCE over the batch on the max-pooled similarity (the multiple-instance idea of EZ-VSL, simplified).
#include <torch/torch.h>

#include "avsl/core/method.h"
#include "avsl/core/plugin_abi.h"

namespace minimal {

class PatchMatch final : public avsl::Method {
 public:
  PatchMatch(int64_t dim, int64_t grid, double tau) : grid_(grid), tau_(tau) {
    image_proj_ = register_module("image_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, dim, 1)));
    audio_proj_ = register_module("audio_proj", torch::nn::Linear(1, dim));
  }

  avsl::StepOutput TrainStep(const avsl::Batch& batch) override {
    torch::Tensor sim = Similarity(batch);                         // [B_audio, B_image, g, g]
    torch::Tensor logits = std::get<0>(sim.flatten(2).max(2)) / tau_;  // [B, B]
    torch::Tensor labels = torch::arange(logits.size(0), logits.options().dtype(torch::kLong));
    torch::Tensor loss = 0.5 * (torch::nn::functional::cross_entropy(logits, labels) +
                                torch::nn::functional::cross_entropy(logits.t(), labels));
    return {loss, {}};
  }

  avsl::Localization Localize(const avsl::Batch& batch) override {
    torch::Tensor sim = Similarity(batch);
    avsl::Localization out;
    out.maps = sim.diagonal(0, 0, 1).permute({2, 0, 1}).contiguous();  // matching pairs: [B, g, g]
    out.range_min = -1.0;
    out.range_max = 1.0;
    return out;
  }

 private:
  torch::Tensor Similarity(const avsl::Batch& batch) {
    torch::Tensor img = torch::adaptive_avg_pool2d(batch.image, {grid_, grid_});
    torch::Tensor v = torch::nn::functional::normalize(image_proj_(img), torch::nn::functional::NormalizeFuncOptions().dim(1));
    torch::Tensor a = audio_proj_(batch.audio.flatten(1).mean(1, /*keepdim=*/true));
    a = torch::nn::functional::normalize(a, torch::nn::functional::NormalizeFuncOptions().dim(1));
    return torch::einsum("ad,bdhw->abhw", {a, v});
  }

  int64_t grid_;
  double tau_;
  torch::nn::Conv2d image_proj_{nullptr};
  torch::nn::Linear audio_proj_{nullptr};
};

}  // namespace minimal

AVSL_PLUGIN("minimal", "0.1.0", "the out-of-tree example of docs/writing-a-plugin.md") {
  avsl::Schema schema("cosine similarity between projected image patches and the projected audio");
  schema.Int("dim", 32, "embedding size").Range(1, 4096);
  schema.Int("grid", 7, "side of the localization map").Range(1, 224);
  schema.Float("tau", 0.07, "softmax temperature").Range(1e-4, 10);
  registrar.Register<avsl::Method>(
      "PatchMatch", std::move(schema),
      [](const avsl::ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<avsl::Method>> {
        return std::make_shared<minimal::PatchMatch>(c.GetInt("dim"), c.GetInt("grid"), c.GetFloat("tau"));
      },
      "patch/audio cosine similarity with a multiple-instance InfoNCE loss");
}
