// center_prior: a centred Gaussian localization map with constant confidence. It ignores the audio and the
// image, so every results table can show what "no audio, no vision" achieves (the top-50 % rule favours it).
#include <torch/torch.h>

#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"

namespace avsl::plugins::center_prior {

struct CenterPriorOptions {
  int64_t resolution = 56;
  double sigma = 0.25;
};

Options<CenterPriorOptions> MakeCenterPriorOptions() {
  Options<CenterPriorOptions> o("a centred Gaussian map, identical for every sample");
  o.Int("resolution", &CenterPriorOptions::resolution, "side of the square map before upsampling to 224")
      .Range(1, 4096);
  o.Float("sigma", &CenterPriorOptions::sigma, "standard deviation as a fraction of the image side").Range(1e-3, 10);
  return o;
}

class CenterPrior final : public Method {
 public:
  CenterPrior(int64_t resolution, double sigma) : resolution_(resolution), sigma_(sigma) {}

  StepOutput TrainStep(const Batch& batch) override {
    // Nothing to learn: a constant zero loss keeps the trainer's bookkeeping uniform.
    return {torch::zeros({}, batch.image.options()), {}, {}};
  }

  Localization Localize(const Batch& batch) override {
    const int64_t n = batch.image.size(0);
    auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(batch.image.device());
    // Pixel centres in [0,1]: (i + 0.5) / resolution, so the map is symmetric about the image centre.
    torch::Tensor coords = (torch::arange(resolution_, opts) + 0.5) / static_cast<double>(resolution_) - 0.5;
    torch::Tensor d2 = coords.view({-1, 1}).pow(2) + coords.view({1, -1}).pow(2);
    torch::Tensor map = torch::exp(-d2 / (2.0 * sigma_ * sigma_));
    Localization out;
    out.maps = map.unsqueeze(0).expand({n, resolution_, resolution_}).contiguous();
    out.confidence = torch::ones({n}, opts);
    out.confidence_name = "constant";
    out.range_min = 0.0;
    out.range_max = 1.0;
    return out;
  }

  bool trainable() const override { return false; }

 private:
  int64_t resolution_;
  double sigma_;
};

}  // namespace avsl::plugins::center_prior

AVSL_PLUGIN("center_prior", "1.0.0", "Centred Gaussian map with constant confidence (no-audio reference)") {
  const auto options = avsl::plugins::center_prior::MakeCenterPriorOptions();
  registrar.Register<avsl::Method>(
      "CenterPrior", options.schema(),
      [options](const avsl::ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<avsl::Method>> {
        const avsl::plugins::center_prior::CenterPriorOptions opt = options.Read(c);
        return std::make_shared<avsl::plugins::center_prior::CenterPrior>(opt.resolution, opt.sigma);
      },
      "centred Gaussian map, constant confidence: what 'no audio' achieves");
}
