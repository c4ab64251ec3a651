// attention10k: Attention10k (Senocak et al., CVPR 2018 / TPAMI 2020) in its ResNet18 port, DSOL
// `compared model/attention_net.py::Attention_Net` (see README.md): attention = softmax over the
// locations of <L2norm(V), L2norm(MLP(a))>, the attended (normalized) visual vector through a 2-layer MLP, and
// its Euclidean distance to the raw pooled audio feature. Objectives: the original unsupervised ratio loss
// (default, losses.py), DSOL's margin-10 contrastive loss, plus the supervised attention cross-entropy on the
// annotated samples (the semi-supervised row). One random in-batch negative per sample. `anchor = "detached"`
// makes the ratio loss's distance targets constants, as the original's precomputed SoundNet features.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "attention10k_loss.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/model_ops.h"

namespace avsl::plugins::attention10k {
namespace {

namespace F = torch::nn::functional;
namespace nn = torch::nn;

struct Attention10kOptions {
  int64_t hidden_dim = 512;
  std::string loss = "ratio";
  bool detach_anchor = false;  ///< anchor = "detached": the ratio loss's targets a_fea carry no gradient
  double margin = 10.0;
  double supervised_weight = 1.0;
  SupervisionTarget target = SupervisionTarget::kBinary;
  std::string confidence = "generic";
};

// One forward of the attention branch for image features `v` [B,P,C] (normalized) and audio `a_fea` [B,Ca].
struct Attended {
  torch::Tensor logits;  ///< [B,P] attention logits
  torch::Tensor f_v;     ///< [B,Ca] embedded attended visual vector
};

class Attention10k final : public Method {
 public:
  Attention10k(const Attention10kOptions& o, std::shared_ptr<Encoder> image, std::shared_ptr<Encoder> audio) : o_(o) {
    const int64_t cv = image->out_channels(), ca = audio->out_channels();
    // Registration order and names follow Attention_Net (visual_net, audio_net, fc_v_*, fc_a_*); its unused
    // pooling_a and fc_av are left out. Heads keep PyTorch's default Linear init, as the reference.
    visual_net_ = register_module("visual_net", std::move(image));
    audio_net_ = register_module("audio_net", std::move(audio));
    fc_v_1_ = register_module("fc_v_1", nn::Linear(cv, o.hidden_dim));
    fc_v_2_ = register_module("fc_v_2", nn::Linear(o.hidden_dim, ca));  // into the audio feature space
    fc_a_1_ = register_module("fc_a_1", nn::Linear(ca, o.hidden_dim));
    fc_a_2_ = register_module("fc_a_2", nn::Linear(o.hidden_dim, cv));  // into the visual channel space
  }

  StepOutput TrainStep(const Batch& batch) override {
    const int64_t n = batch.image.size(0);
    TORCH_CHECK(n >= 2,
                "attention10k: a training batch needs at least 2 samples (each takes another sample of the "
                "batch as its negative), got ",
                n);
    auto [v, a, a_fea, h, w] = Embed(batch);
    // One random other sample per anchor, uniform over the n - 1 others (the reference's choice(r != index)).
    const torch::Tensor offset = torch::randint(1, n, {n}, torch::TensorOptions().dtype(torch::kLong));
    const torch::Tensor neg = ((torch::arange(n, offset.options()) + offset) % n).to(v.device());
    const Attended pos = Attend(v, a);
    torch::Tensor unsup, d_pos, d_neg;  // d_pos, d_neg [B]: the distances of the objective, logged below
    if (o_.loss == "ratio") {
      // Original: the attended image embedding against the positive and a negative sample's audio feature.
      // anchor = "detached": both targets are constants (the original's precomputed SoundNet vectors,
      // sound_localization_main.py:182); the audio net then learns only through the attention query `a`.
      const torch::Tensor target = o_.detach_anchor ? a_fea.detach() : a_fea;
      const RatioDistances d = RatioLossDistances(pos.f_v, target, target.index_select(0, neg));
      unsup = RatioLossOfDistances(d.d_pos, d.d_neg);
      d_pos = d.d_pos;
      d_neg = d.d_neg;
    } else {
      // DSOL's port: (audio_i, image_i) y = 1 and (audio_i, image_j) y = 0, attention recomputed on image j.
      const Attended negative = Attend(v.index_select(0, neg), a);
      const torch::Tensor d2 = torch::cat({(pos.f_v - a_fea).pow(2).sum(1), (negative.f_v - a_fea).pow(2).sum(1)});
      const torch::Tensor y = torch::cat({torch::ones({n}, d2.options()), torch::zeros({n}, d2.options())});
      unsup = ContrastiveLoss(d2, y, o_.margin);
      const torch::Tensor d = d2.detach().sqrt();  // ||f_v - a_fea||, without the loss's 1e-9 inside the root
      d_pos = d.slice(0, 0, n);
      d_neg = d.slice(0, n, 2 * n);
    }
    torch::Tensor sup = torch::zeros({}, unsup.options());
    if (o_.supervised_weight > 0) {
      sup = SupervisedAttentionLoss(pos.logits.view({n, h, w}), batch.gt_map, batch.has_gt, o_.target);
    }
    torch::Tensor total = unsup + o_.supervised_weight * sup;
    // Diagnostics of the scale route of the ratio loss (baseline audit A2), read off detached copies: the mean
    // positive and negative distance and the mean L2 norm of the audio anchor a_fea.
    const double dist_pos = d_pos.detach().mean().item<double>();
    const double dist_neg = d_neg.detach().mean().item<double>();
    const double audio_norm = a_fea.detach().pow(2).sum(1).sqrt().mean().item<double>();
    return {total,
            {{"loss_unsup", unsup.item<double>()},
             {"loss_sup", sup.item<double>()},
             {"dist_pos", dist_pos},
             {"dist_neg", dist_neg},
             {"audio_norm", audio_norm}},
            {}};
  }

  Localization Localize(const Batch& batch) override {
    auto [v, a, a_fea, h, w] = Embed(batch);
    const Attended pos = Attend(v, a);
    Localization out;
    out.maps = torch::softmax(pos.logits, 1).view({v.size(0), h, w});  // alpha, in [0, 1]
    out.range_min = 0.0;
    out.range_max = 1.0;
    if (o_.confidence == "max_attention") {
      out.confidence = std::get<0>(out.maps.flatten(1).max(1));
      out.confidence_name = "attention10k max alpha";
    } else if (o_.confidence == "neg_distance") {
      out.confidence = -(pos.f_v - a_fea).pow(2).sum(1).sqrt();
      out.confidence_name = "attention10k -||f_v - a||";
    }
    return out;
  }

 private:
  struct Embedding {
    torch::Tensor v;      ///< [B,P,C] L2-normalized visual map
    torch::Tensor a;      ///< [B,C] L2-normalized audio query
    torch::Tensor a_fea;  ///< [B,Ca] raw pooled audio feature (the distance anchor)
    int64_t h, w;
  };

  Embedding Embed(const Batch& batch) {
    const torch::Tensor v_map = visual_net_->Forward(batch.image);  // [B,C,h,w]
    const int64_t h = v_map.size(2), w = v_map.size(3);
    torch::Tensor v = F::normalize(v_map.flatten(2).transpose(1, 2), F::NormalizeFuncOptions().dim(2));
    torch::Tensor a_fea = models::PooledAudioVector(audio_net_->Forward(batch.audio), "attention10k");
    torch::Tensor a = F::normalize(torch::relu(fc_a_2_(torch::relu(fc_a_1_(a_fea)))), F::NormalizeFuncOptions().dim(1));
    return {std::move(v), std::move(a), std::move(a_fea), h, w};
  }

  Attended Attend(const torch::Tensor& v, const torch::Tensor& a) {
    Attended out;
    out.logits = AttentionLogits(v, a);
    const torch::Tensor z = AttendedVector(torch::softmax(out.logits, 1), v);
    out.f_v = torch::relu(fc_v_2_(torch::relu(fc_v_1_(z))));
    return out;
  }

  Attention10kOptions o_;
  std::shared_ptr<Encoder> visual_net_, audio_net_;
  nn::Linear fc_v_1_{nullptr}, fc_v_2_{nullptr}, fc_a_1_{nullptr}, fc_a_2_{nullptr};
};

Options<Attention10kOptions> Attention10kSchema() {
  Options<Attention10kOptions> o(
      "Attention10k, ResNet18 port (DSOL compared model/attention_net.py); map = softmax attention over locations");
  o.schema().Component("image_encoder", ComponentKind::kEncoder, "core.ResNet18Image",
                       "image backbone returning [B,C,h,w] (port: LVS ResNet18, layer4_stride = 1 -> 14x14 at 224, "
                       "ImageNet weights; layer4_stride = 2 gives the 7x7 torchvision map)");
  o.schema().Component("audio_encoder", ComponentKind::kEncoder, "core.ResNet18Audio",
                       "audio backbone returning a pooled [B,C,1,1] vector (port: global max pool)");
  o.Int("hidden_dim", &Attention10kOptions::hidden_dim,
        "width of the hidden layer of both 2-layer MLPs (port: fc 512 -> 512 -> 512)")
      .Range(1, 65536);
  o.String("loss", &Attention10kOptions::loss,
           "ratio: the original unsupervised loss (losses.py: softmax of the positive/negative audio distances vs "
           "[0, 1], squared); contrastive: DSOL's port (positive and negative image pair, margin loss)")
      .OneOf({"ratio", "contrastive"});
  o.Choice("anchor", &Attention10kOptions::detach_anchor, {{"trainable", false}, {"detached", true}},
           "distance targets of the ratio loss (the pooled audio feature a_fea of the sample and of the negative): "
           "trainable (the DSOL port's a_fea, gradient into the audio net through the targets too; with the ratio "
           "loss, scaling the audio embeddings alone can drive the loss to 0) or detached (constants, as the "
           "original's precomputed SoundNet features; the audio net learns only through the attention query). "
           "detached needs loss = \"ratio\"");
  o.Float("margin", &Attention10kOptions::margin,
          "margin of the contrastive loss (DSOL ContrastiveLoss(margin=10)); unused by ratio")
      .Range(0, 1e6);
  o.Float("supervised_weight", &Attention10kOptions::supervised_weight,
          "lambda of the supervised attention cross-entropy on annotated samples (Batch.has_gt); the released "
          "code adds it with weight 1 whenever annotations are given; 0 = purely unsupervised")
      .Range(0, 1e6);
  o.Choice("supervised_target", &Attention10kOptions::target,
           {{"binary", SupervisionTarget::kBinary},
            {"soft", SupervisionTarget::kSoft},
            {"distribution", SupervisionTarget::kDistribution}},
           "GT map -> attention-grid target: binary (cells at least half covered = 1, un-normalized, as the "
           "released gt_box20), soft (covered fraction), distribution (covered fraction / its sum)");
  o.String("confidence", &Attention10kOptions::confidence,
           "generic: none native (the evaluator's top-25% mean of alpha, range [0,1]); max_attention: max alpha; "
           "neg_distance: -||f_v - a||, the distance to the positive audio negated")
      .OneOf({"generic", "max_attention", "neg_distance"});
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeAttention10k(const Options<Attention10kOptions>& options,
                                                         const ComponentConfig& c) {
  const Attention10kOptions opt = options.Read(c);
  if (opt.detach_anchor && opt.loss != "ratio") {
    return absl::InvalidArgumentError(
        absl::StrCat("recipe key '", c.path(), ".anchor' = \"detached\" only applies with ", c.path(),
                     ".loss = \"ratio\" (got \"", opt.loss, "\"); with loss = \"", opt.loss,
                     "\" the anchor must be \"trainable\" (its margin pins the scale of a_fea, as in DSOL's port)"));
  }
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> image, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> audio, BuildSub<Encoder>(c, "audio_encoder"));
  return std::make_shared<Attention10k>(opt, std::move(image), std::move(audio));
}

}  // namespace
}  // namespace avsl::plugins::attention10k

AVSL_PLUGIN("attention10k", "1.0.0", "Attention10k: audio-guided attention, ratio or contrastive loss (CVPR 2018)") {
  const auto options = avsl::plugins::attention10k::Attention10kSchema();
  registrar.Register<avsl::Method>(
      "Attention10k", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::attention10k::MakeAttention10k(options, c); },
      "Attention10k: softmax attention map, ratio/contrastive loss, optional L_S");
}
