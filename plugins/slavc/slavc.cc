// slavc: SLAVC (Mo & Morgado, NeurIPS 2022) as in stoneMo/SLAVC model.py and test.py (README.md lists what is kept).
// Two projection heads per modality, dropout on the image map and the audio vector, momentum (EMA) copies of
// both encoders and all four heads as targets, the asymmetric i2a/a2i loss, map = mean of the two heads.
// Submodules carry the reference's names (imgnet, img_proj1, momentum_audnet, ...) so a released checkpoint's
// state_dict maps onto this module by name.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/rank_group.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/model_ops.h"
#include "avsl/models/objectives.h"
#include "slavc_confidence.h"

namespace avsl::plugins::slavc {
namespace {

namespace nn = torch::nn;

struct SlavcOptions {
  int64_t dim = 512;
  double tau = 0.03;
  double dropout_img = 0.9;
  double dropout_aud = 0.0;
  double momentum_img = 0.999;
  double momentum_aud = 0.999;
  bool eval_momentum = false;  ///< eval_encoder = "momentum"
  bool reference_init = true;  ///< head_init = "reference"
  int64_t confidence_size = 224;
};

class Slavc final : public Method {
 public:
  // The four encoders arrive built (the momentum ones from the same recipe tables, so their buffers are their
  // own, as in the reference); the constructor copies parameters online -> momentum and freezes the copies.
  Slavc(const SlavcOptions& o, std::shared_ptr<Encoder> img, std::shared_ptr<Encoder> aud,
        std::shared_ptr<Encoder> img_m, std::shared_ptr<Encoder> aud_m)
      : o_(o) {
    const int64_t ci = img->out_channels(), ca = aud->out_channels();
    auto conv = [&] { return nn::Conv2d(nn::Conv2dOptions(ci, o.dim, 1)); };
    auto linear = [&] { return nn::Linear(ca, o.dim); };
    // Registration order = the reference's attribute order, so state_dict orders agree too.
    imgnet_ = register_module("imgnet", std::move(img));
    img_dropout_ = register_module("img_dropout", nn::Dropout(o.dropout_img));
    img_proj1_ = register_module("img_proj1", conv());
    img_proj2_ = register_module("img_proj2", conv());
    audnet_ = register_module("audnet", std::move(aud));
    aud_proj1_ = register_module("aud_proj1", linear());
    aud_proj2_ = register_module("aud_proj2", linear());
    aud_dropout_ = register_module("aud_dropout", nn::Dropout(o.dropout_aud));
    if (o.reference_init) {
      // model.py re-initializes the heads (and the audio net, which core.ResNet18Audio's init = "reference"
      // does): Conv2d kaiming_normal(fan_out, relu), Linear trunc_normal(0, 0.01); biases keep the default.
      torch::NoGradGuard no_grad;
      nn::init::kaiming_normal_(img_proj1_->weight, 0.0, torch::kFanOut, torch::kReLU);
      nn::init::kaiming_normal_(img_proj2_->weight, 0.0, torch::kFanOut, torch::kReLU);
      models::TruncNormal_(aud_proj1_->weight, 0.0, 0.01, -2, 2);
      models::TruncNormal_(aud_proj2_->weight, 0.0, 0.01, -2, 2);
    }
    momentum_imgnet_ = register_module("momentum_imgnet", std::move(img_m));
    momentum_img_proj1_ = register_module("momentum_img_proj1", conv());
    momentum_img_proj2_ = register_module("momentum_img_proj2", conv());
    momentum_audnet_ = register_module("momentum_audnet", std::move(aud_m));
    momentum_aud_proj1_ = register_module("momentum_aud_proj1", linear());
    momentum_aud_proj2_ = register_module("momentum_aud_proj2", linear());

    pairs_ = {{imgnet_.get(), momentum_imgnet_.get(), o.momentum_img},
              {img_proj1_.ptr().get(), momentum_img_proj1_.ptr().get(), o.momentum_img},
              {img_proj2_.ptr().get(), momentum_img_proj2_.ptr().get(), o.momentum_img},
              {audnet_.get(), momentum_audnet_.get(), o.momentum_aud},
              {aud_proj1_.ptr().get(), momentum_aud_proj1_.ptr().get(), o.momentum_aud},
              {aud_proj2_.ptr().get(), momentum_aud_proj2_.ptr().get(), o.momentum_aud}};
    // initialize_momentum_encoder: parameters only (buffers stay the copy's own), requires_grad = false.
    torch::NoGradGuard no_grad;
    for (const EmaPair& p : pairs_) {
      std::vector<torch::Tensor> online = p.online->parameters(), target = p.target->parameters();
      TORCH_CHECK(online.size() == target.size(), "slavc: momentum copy has ", target.size(),
                  " parameter tensors, the online network ", online.size());
      for (size_t i = 0; i < online.size(); ++i) {
        TORCH_CHECK(online[i].sizes() == target[i].sizes(), "slavc: momentum copy parameter ", i, " has shape ",
                    target[i].sizes(), ", online ", online[i].sizes());
        target[i].copy_(online[i]);
        target[i].set_requires_grad(false);
      }
    }
  }

  StepOutput TrainStep(const Batch& batch) override {
    // The reference's order: online image, online audio, then the targets under no_grad (in train mode: target
    // dropout and target BN statistics are live). The EMA update the reference does here, before the targets,
    // happens in AfterOptimizerStep at the end of the previous step, with the same parameters (README.md).
    models::TwoHeadFeatures online = Features(false, batch);
    models::TwoHeadFeatures target;
    {
      torch::NoGradGuard no_grad;
      target = Features(true, batch);
    }
    // The map of this forward, before any gathering replaces the audios.
    torch::Tensor maps = models::TwoHeadMap(online, o_.tau);
    int64_t offset = -1;  // one process: images and audios pair one to one
    // train.global_negatives: every rank's audios (online and target, in one gather), this rank's images.
    const GatheredRows audios = GatherNegatives(torch::cat({online.aud1, online.aud2, target.aud1, target.aud2}, 1));
    if (audios.gathered) {
      const std::vector<torch::Tensor> parts = audios.all.chunk(4, 1);
      online.aud1 = parts[0];
      online.aud2 = parts[1];
      target.aud1 = parts[2];
      target.aud2 = parts[3];
      offset = audios.offset;
    }
    models::AsymmetricLossTerms t = models::AsymmetricContrastiveLoss(online, target, o_.tau, offset);
    const torch::Tensor ce_a2i = -torch::log_softmax(t.a2i.detach(), 1).diagonal(t.offset).mean();
    const double total = t.total.item<double>(), a2i = ce_a2i.item<double>();
    // The online map of this forward, differentiable, with its dropout: what extra losses (semi) train on.
    return {t.total, {{"loss_a2i", a2i}, {"loss_i2a", total - a2i}}, maps};
  }

  Localization Localize(const Batch& batch) override {
    Localization out;
    out.maps = models::TwoHeadMap(Features(o_.eval_momentum, batch), o_.tau);
    out.confidence = SlavcConfidence(out.maps.detach(), o_.tau, o_.confidence_size);
    out.confidence_name = "slavc";
    out.range_min = -1.0 / o_.tau;
    out.range_max = 1.0 / o_.tau;
    return out;
  }

  void AfterOptimizerStep() override {
    // _update_momentum_encoder: θ_m <- θ_m·m + θ·(1-m), parameters only, the reference's expression.
    torch::NoGradGuard no_grad;
    for (const EmaPair& p : pairs_) {
      std::vector<torch::Tensor> online = p.online->parameters(), target = p.target->parameters();
      for (size_t i = 0; i < online.size(); ++i) target[i].copy_(target[i] * p.m + online[i] * (1.0 - p.m));
    }
  }

 private:
  struct EmaPair {
    nn::Module* online;
    nn::Module* target;
    double m;
  };

  models::TwoHeadFeatures Features(bool momentum, const Batch& batch) {
    Encoder& imgnet = momentum ? *momentum_imgnet_ : *imgnet_;
    Encoder& audnet = momentum ? *momentum_audnet_ : *audnet_;
    nn::Conv2d& ip1 = momentum ? momentum_img_proj1_ : img_proj1_;
    nn::Conv2d& ip2 = momentum ? momentum_img_proj2_ : img_proj2_;
    nn::Linear& ap1 = momentum ? momentum_aud_proj1_ : aud_proj1_;
    nn::Linear& ap2 = momentum ? momentum_aud_proj2_ : aud_proj2_;
    namespace F = nn::functional;
    const auto unit = F::NormalizeFuncOptions().dim(1);
    models::TwoHeadFeatures f;
    // forward_img_features: dropout on the backbone map, element-wise, before both projections.
    torch::Tensor img = img_dropout_(imgnet.Forward(batch.image));
    f.img1 = F::normalize(ip1(img), unit);
    f.img2 = F::normalize(ip2(img), unit);
    torch::Tensor aud = aud_dropout_(models::PooledAudioVector(audnet.Forward(batch.audio), "slavc.SLAVC"));
    f.aud1 = F::normalize(ap1(aud), unit);
    f.aud2 = F::normalize(ap2(aud), unit);
    return f;
  }

  SlavcOptions o_;
  std::shared_ptr<Encoder> imgnet_, audnet_, momentum_imgnet_, momentum_audnet_;
  nn::Dropout img_dropout_{nullptr}, aud_dropout_{nullptr};
  nn::Conv2d img_proj1_{nullptr}, img_proj2_{nullptr}, momentum_img_proj1_{nullptr}, momentum_img_proj2_{nullptr};
  nn::Linear aud_proj1_{nullptr}, aud_proj2_{nullptr}, momentum_aud_proj1_{nullptr}, momentum_aud_proj2_{nullptr};
  std::vector<EmaPair> pairs_;
};

Options<SlavcOptions> MakeSlavcOptions() {
  Options<SlavcOptions> o("SLAVC (stoneMo/SLAVC model.py); defaults are train_vggsound144k.sh's");
  o.schema().Component("image_encoder", ComponentKind::kEncoder, "core.ResNet18Image",
                       "image backbone (returns [B,C,h,w]); built twice: online and momentum copy");
  o.schema().Component("audio_encoder", ComponentKind::kEncoder, "core.ResNet18Audio",
                       "audio backbone (returns a pooled [B,C,1,1]); built twice: online and momentum copy");
  o.Int("dim", &SlavcOptions::dim, "projection dimension of each head (--out_dim)").Range(1, 65536);
  o.Float("tau", &SlavcOptions::tau, "softmax temperature; maps live in [-1/tau, 1/tau]").Range(1e-4, 10);
  o.Float("dropout_img", &SlavcOptions::dropout_img,
          "element-wise dropout on the image backbone map, both branches (--dropout_img)")
      .Range(0, 0.999);
  o.Float("dropout_aud", &SlavcOptions::dropout_aud,
          "dropout on the pooled audio vector, both branches (--dropout_aud)")
      .Range(0, 0.999);
  o.Float("momentum_img", &SlavcOptions::momentum_img, "EMA momentum of the image encoder and heads (--m_img)")
      .Range(0, 1);
  o.Float("momentum_aud", &SlavcOptions::momentum_aud, "EMA momentum of the audio encoder and heads (--m_aud)")
      .Range(0, 1);
  o.Choice("eval_encoder", &SlavcOptions::eval_momentum, {{"online", false}, {"momentum", true}},
           "networks that Localize uses: online (test.py as documented) or momentum (--use_mom_eval)");
  o.Choice("head_init", &SlavcOptions::reference_init, {{"reference", true}, {"torch", false}},
           "reference: conv kaiming_normal(fan_out, relu), linear trunc_normal(0, 0.01); torch: LibTorch defaults");
  o.Int("confidence_size", &SlavcOptions::confidence_size,
        "side of the bicubic upsampling the confidence is computed on")
      .Range(1, 4096);
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeSlavc(const Options<SlavcOptions>& options, const ComponentConfig& c) {
  const SlavcOptions o = options.Read(c);
  // Each encoder table is built twice: the online network and its momentum copy (reference: build_imgnet()
  // and build_audnet() are called again for momentum_imgnet / momentum_audnet).
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> img, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> aud, BuildSub<Encoder>(c, "audio_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> img_m, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> aud_m, BuildSub<Encoder>(c, "audio_encoder"));
  return std::make_shared<Slavc>(o, std::move(img), std::move(aud), std::move(img_m), std::move(aud_m));
}

}  // namespace
}  // namespace avsl::plugins::slavc

AVSL_PLUGIN("slavc", "1.0.0", "SLAVC: two heads per modality, momentum targets, asymmetric loss, confidence") {
  const auto options = avsl::plugins::slavc::MakeSlavcOptions();
  registrar.Register<avsl::Method>(
      "SLAVC", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::slavc::MakeSlavc(options, c); },
      "SLAVC: momentum targets, two heads per modality, native confidence");
}
