// A minimal but complete avsl method: pooled image patches and a band-pooled spectrogram are projected into a
// shared space; the map is their cosine similarity at every location; the loss is a symmetric InfoNCE over the
// batch on the max-pooled similarity (the multiple-instance idea of EZ-VSL, simplified).
#include <torch/torch.h>

#include <memory>

#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"

namespace minimal {

namespace F = torch::nn::functional;

// The options, each written once: the member initializers are the defaults, MakeOptions binds each member to
// its recipe key (name, doc, range), and the factory gets the struct back from Options::Read.
struct PatchMatchOptions {
  int64_t dim = 32;
  int64_t grid = 7;
  int64_t bands = 16;
  double tau = 0.07;
};

avsl::Options<PatchMatchOptions> MakeOptions() {
  avsl::Options<PatchMatchOptions> o("cosine similarity between projected image patches and the projected audio");
  o.Int("dim", &PatchMatchOptions::dim, "embedding size").Range(1, 4096);
  o.Int("grid", &PatchMatchOptions::grid, "side of the localization map").Range(1, 224);
  o.Int("bands", &PatchMatchOptions::bands, "frequency bands of the time-averaged spectrogram").Range(1, 1024);
  o.Float("tau", &PatchMatchOptions::tau, "softmax temperature").Range(1e-4, 10);
  return o;
}

class PatchMatch final : public avsl::Method {
 public:
  explicit PatchMatch(const PatchMatchOptions& opt) : opt_(opt) {
    image_proj_ = register_module("image_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, opt.dim, 1)));
    audio_proj_ = register_module("audio_proj", torch::nn::Linear(opt.bands, opt.dim));
  }

  avsl::StepOutput TrainStep(const avsl::Batch& batch) override {
    torch::Tensor sim = Similarity(batch);                                 // [B_audio, B_image, g, g]
    torch::Tensor logits = std::get<0>(sim.flatten(2).max(2)) / opt_.tau;  // [B, B]
    torch::Tensor labels = torch::arange(logits.size(0), logits.options().dtype(torch::kLong));
    torch::Tensor loss = 0.5 * (F::cross_entropy(logits, labels) + F::cross_entropy(logits.t(), labels));
    // The matching pairs' maps of this forward pass, for extra [[losses]] in a recipe.
    return {loss, /*logs=*/{}, /*maps=*/Matching(sim)};
  }

  avsl::Localization Localize(const avsl::Batch& batch) override {
    avsl::Localization out;
    out.maps = Matching(Similarity(batch));  // [B, g, g]
    out.range_min = -1.0;                    // a cosine: scored on [-1, 1] mapped to [0, 1]
    out.range_max = 1.0;
    return out;
  }

 private:
  torch::Tensor Similarity(const avsl::Batch& batch) {
    torch::Tensor img = torch::adaptive_avg_pool2d(batch.image, {opt_.grid, opt_.grid});
    torch::Tensor v = F::normalize(image_proj_(img), F::NormalizeFuncOptions().dim(1));  // [B, d, g, g]
    // [B, 1, F, T] -> [B, bands]: the spectrogram averaged over time, in `bands` frequency bands.
    torch::Tensor a = torch::adaptive_avg_pool2d(batch.audio, {opt_.bands, 1}).flatten(1);
    a = F::normalize(audio_proj_(a), F::NormalizeFuncOptions().dim(1));  // [B, d]
    return torch::einsum("ad,bdhw->abhw", {a, v});
  }

  static torch::Tensor Matching(const torch::Tensor& sim) {  // sim[n, n]: [B, g, g]
    return sim.diagonal(0, 0, 1).permute({2, 0, 1}).contiguous();
  }

  PatchMatchOptions opt_;
  torch::nn::Conv2d image_proj_{nullptr};
  torch::nn::Linear audio_proj_{nullptr};
};

}  // namespace minimal

AVSL_PLUGIN("minimal", "0.1.0", "the out-of-tree example of docs/writing-a-plugin.md") {
  const avsl::Options<minimal::PatchMatchOptions> options = minimal::MakeOptions();
  registrar.Register<avsl::Method>(
      "PatchMatch", options.schema(),
      [options](const avsl::ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<avsl::Method>> {
        return std::make_shared<minimal::PatchMatch>(options.Read(c));
      },
      "patch/audio cosine similarity with a multiple-instance InfoNCE loss");
}
