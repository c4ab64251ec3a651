// ezvsl: EZ-VSL (Mo & Morgado, ECCV 2022) as an avsl method (reference_spec.md §1.1, §1.2, §2.1): a 1x1 conv
// image projection and a linear audio projection into a shared L2-normalized space, the multiple-instance
// contrastive loss (max over locations, cross-entropy in both directions) and the map S[n,n] = cos / tau.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/model_ops.h"
#include "ezvsl_loss.h"

namespace avsl::plugins::ezvsl {
namespace {

namespace F = torch::nn::functional;

struct EzvslOptions {
  int64_t dim = 512;
  double tau = 0.03;
};

class Ezvsl final : public Method {
 public:
  Ezvsl(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder, int64_t dim, double tau)
      : tau_(tau) {
    image_encoder_ = register_module("image_encoder", std::move(image_encoder));
    audio_encoder_ = register_module("audio_encoder", std::move(audio_encoder));
    img_proj_ = register_module(
        "img_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(image_encoder_->out_channels(), dim, 1).bias(true)));
    aud_proj_ = register_module("aud_proj", torch::nn::Linear(audio_encoder_->out_channels(), dim));
    // The reference re-initializes its heads (reference_spec.md §1.1): conv kaiming_normal(fan_out, relu),
    // linear trunc_normal(0, 0.01) cut at +-2 absolute (= 200 sigma, so a plain normal draw), biases keep
    // PyTorch's default U(+-1/sqrt(fan_in)).
    torch::NoGradGuard no_grad;
    torch::nn::init::kaiming_normal_(img_proj_->weight, 0.0, torch::kFanOut, torch::kReLU);
    aud_proj_->weight.normal_(0.0, 0.01);
  }

  StepOutput TrainStep(const Batch& batch) override {
    auto [v, a] = Embed(batch);
    torch::Tensor loss = MilContrastiveLoss(v, a, tau_);
    // The maps of this forward, for extra losses (semi-supervision); no second forward moves the BN statistics.
    return {loss, {}, PairSimilarity(v, a, tau_)};
  }

  Localization Localize(const Batch& batch) override {
    auto [v, a] = Embed(batch);
    Localization out;
    out.maps = PairSimilarity(v, a, tau_);  // [B,h,w], cos / tau in [-1/tau, 1/tau]
    // The theoretical range: the evaluator maps it to [0,1] before the generic (SLAVC) confidence, exactly as
    // SLAVC's test.py scores EZ-VSL; min-max localization is unaffected by this linear map.
    out.range_min = -1.0 / tau_;
    out.range_max = 1.0 / tau_;
    return out;
  }

 private:
  std::pair<torch::Tensor, torch::Tensor> Embed(const Batch& batch) {
    torch::Tensor v = F::normalize(img_proj_(image_encoder_->Forward(batch.image)), F::NormalizeFuncOptions().dim(1));
    torch::Tensor a = models::PooledAudioVector(audio_encoder_->Forward(batch.audio), "ezvsl.EZVSL");
    a = F::normalize(aud_proj_(a), F::NormalizeFuncOptions().dim(1));
    return {v, a};
  }

  double tau_;
  std::shared_ptr<Encoder> image_encoder_, audio_encoder_;
  torch::nn::Conv2d img_proj_{nullptr};
  torch::nn::Linear aud_proj_{nullptr};
};

Options<EzvslOptions> MakeEzvslOptions() {
  Options<EzvslOptions> o("EZ-VSL: projected, L2-normalized image map and audio vector; map = cos / tau");
  o.schema().Component("image_encoder", ComponentKind::kEncoder, "core.ResNet18Image",
                       "image backbone returning a [B,C,h,w] map (reference: ImageNet ResNet18, 7x7 at 224)");
  o.schema().Component("audio_encoder", ComponentKind::kEncoder, "core.ResNet18Audio",
                       "audio backbone returning a pooled [B,C,1,1] vector (reference: ResNet18, global max pool)");
  o.Int("dim", &EzvslOptions::dim, "embedding size of both projections (reference --out_dim 512)").Range(1, 65536);
  o.Float("tau", &EzvslOptions::tau, "temperature dividing the cosine similarity (reference 0.03)").Range(1e-4, 10);
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeEzvsl(const Options<EzvslOptions>& options, const ComponentConfig& c) {
  const EzvslOptions opt = options.Read(c);
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> image, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> audio, BuildSub<Encoder>(c, "audio_encoder"));
  return std::make_shared<Ezvsl>(std::move(image), std::move(audio), opt.dim, opt.tau);
}

}  // namespace
}  // namespace avsl::plugins::ezvsl

AVSL_PLUGIN("ezvsl", "1.0.0", "EZ-VSL: multiple-instance contrastive audio-visual localization (ECCV 2022)") {
  const auto options = avsl::plugins::ezvsl::MakeEzvslOptions();
  registrar.Register<avsl::Method>(
      "EZVSL", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::ezvsl::MakeEzvsl(options, c); },
      "EZ-VSL: max-over-locations contrastive loss, map S[n,n]");
}
