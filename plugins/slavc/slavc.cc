// slavc: SLAVC (Mo & Morgado, NeurIPS 2022) as in stoneMo/SLAVC model.py (reference_spec.md §1.3-§1.5, §2.2).
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
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "slavc_loss.h"

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

// torch.nn.init.trunc_normal_ (inverse-CDF method, PyTorch's steps; LibTorch 1.13 lacks it).
void TruncNormal(torch::Tensor t, double mean, double std, double a, double b) {
  auto norm_cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double l = norm_cdf((a - mean) / std), u = norm_cdf((b - mean) / std);
  t.uniform_(2 * l - 1, 2 * u - 1).erfinv_().mul_(std * std::sqrt(2.0)).add_(mean).clamp_(a, b);
}

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
      TruncNormal(aud_proj1_->weight, 0.0, 0.01, -2, 2);
      TruncNormal(aud_proj2_->weight, 0.0, 0.01, -2, 2);
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
    SlavcFeatures online = Features(false, batch);
    SlavcFeatures target;
    {
      torch::NoGradGuard no_grad;
      target = Features(true, batch);
    }
    SlavcLossTerms t = SlavcLoss(online, target, o_.tau);
    last_image_ = batch.image;  // held, so its identity cannot be reused by another batch
    last_online_ = std::move(online);
    const torch::Tensor ce_a2i = -torch::log_softmax(t.a2i.detach(), 1).diagonal().mean();
    const double total = t.total.item<double>(), a2i = ce_a2i.item<double>();
    return {t.total, {{"loss_a2i", a2i}, {"loss_i2a", total - a2i}}};
  }

  Localization Localize(const Batch& batch) override {
    Localization out;
    if (is_training() && last_image_.defined() && batch.image.is_same(last_image_)) {
      // Extra losses (e.g. semi) on the batch just trained: the online map of that forward, differentiable, with
      // its dropout, instead of a second forward that would also move the BN statistics again.
      out.maps = SlavcMap(last_online_, o_.tau);
    } else {
      out.maps = SlavcMap(Features(o_.eval_momentum, batch), o_.tau);
    }
    if (!is_training()) {  // evaluation; a training-mode caller (an extra loss) only needs the maps
      torch::NoGradGuard no_grad;
      out.confidence = SlavcConfidence(out.maps.detach(), o_.tau, o_.confidence_size);
      out.confidence_name = "slavc";
    }
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
    last_online_ = SlavcFeatures();
    last_image_ = torch::Tensor();
  }

 private:
  struct EmaPair {
    nn::Module* online;
    nn::Module* target;
    double m;
  };

  SlavcFeatures Features(bool momentum, const Batch& batch) {
    Encoder& imgnet = momentum ? *momentum_imgnet_ : *imgnet_;
    Encoder& audnet = momentum ? *momentum_audnet_ : *audnet_;
    nn::Conv2d& ip1 = momentum ? momentum_img_proj1_ : img_proj1_;
    nn::Conv2d& ip2 = momentum ? momentum_img_proj2_ : img_proj2_;
    nn::Linear& ap1 = momentum ? momentum_aud_proj1_ : aud_proj1_;
    nn::Linear& ap2 = momentum ? momentum_aud_proj2_ : aud_proj2_;
    namespace F = nn::functional;
    const auto unit = F::NormalizeFuncOptions().dim(1);
    SlavcFeatures f;
    // forward_img_features: dropout on the backbone map, element-wise, before both projections.
    torch::Tensor img = img_dropout_(imgnet.Forward(batch.image));
    f.img1 = F::normalize(ip1(img), unit);
    f.img2 = F::normalize(ip2(img), unit);
    torch::Tensor aud = audnet.Forward(batch.audio);
    TORCH_CHECK(aud.dim() == 2 || (aud.dim() == 4 && aud.size(2) == 1 && aud.size(3) == 1),
                "slavc: the audio encoder must return a pooled vector [B,C] or [B,C,1,1] (core.ResNet18Audio with "
                "pool = \"max\"), got ", aud.sizes());
    aud = aud_dropout_(aud.flatten(1));
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
  SlavcFeatures last_online_;
  torch::Tensor last_image_;  ///< the image batch of the last TrainStep (Localize in training mode)
};

absl::StatusOr<std::shared_ptr<Method>> MakeSlavc(const ComponentConfig& c) {
  SlavcOptions o;
  o.dim = c.GetInt("dim");
  o.tau = c.GetFloat("tau");
  o.dropout_img = c.GetFloat("dropout_img");
  o.dropout_aud = c.GetFloat("dropout_aud");
  o.momentum_img = c.GetFloat("momentum_img");
  o.momentum_aud = c.GetFloat("momentum_aud");
  o.eval_momentum = c.GetString("eval_encoder") == "momentum";
  o.reference_init = c.GetString("head_init") == "reference";
  o.confidence_size = c.GetInt("confidence_size");
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
  avsl::Schema s("SLAVC (stoneMo/SLAVC model.py); defaults are train_vggsound144k.sh's");
  s.Component("image_encoder", avsl::ComponentKind::kEncoder, "core.ResNet18Image",
              "image backbone (returns [B,C,h,w]); built twice: online and momentum copy");
  s.Component("audio_encoder", avsl::ComponentKind::kEncoder, "core.ResNet18Audio",
              "audio backbone (returns a pooled [B,C,1,1]); built twice: online and momentum copy");
  s.Int("dim", 512, "projection dimension of each head (--out_dim)").Range(1, 65536);
  s.Float("tau", 0.03, "softmax temperature; maps live in [-1/tau, 1/tau]").Range(1e-4, 10);
  s.Float("dropout_img", 0.9, "element-wise dropout on the image backbone map, both branches (--dropout_img)")
      .Range(0, 0.999);
  s.Float("dropout_aud", 0.0, "dropout on the pooled audio vector, both branches (--dropout_aud)").Range(0, 0.999);
  s.Float("momentum_img", 0.999, "EMA momentum of the image encoder and heads (--m_img)").Range(0, 1);
  s.Float("momentum_aud", 0.999, "EMA momentum of the audio encoder and heads (--m_aud)").Range(0, 1);
  s.String("eval_encoder", "online",
           "networks that Localize uses: online (test.py as documented) or momentum (--use_mom_eval)")
      .OneOf({"online", "momentum"});
  s.String("head_init", "reference",
           "reference: conv kaiming_normal(fan_out, relu), linear trunc_normal(0, 0.01); torch: LibTorch defaults")
      .OneOf({"reference", "torch"});
  s.Int("confidence_size", 224, "side of the bicubic upsampling the confidence is computed on").Range(1, 4096);
  registrar.Register<avsl::Method>("SLAVC", std::move(s), avsl::plugins::slavc::MakeSlavc,
                                   "SLAVC: momentum targets, two heads per modality, native confidence");
}
