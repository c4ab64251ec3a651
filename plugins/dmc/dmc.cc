// dmc: Deep Multimodal Clustering (Hu, Nie, Li, CVPR 2019) as in DTaoo/Simplified_DMC model/dmc_model.py (the
// identical DSOL `compared model/dmc_model.py`; see README.md): a linear layer on every visual and audio
// position, differentiable soft k-means in each modality, the distance between the nearest visual centre and
// each audio centre, DSOL's margin-5 contrastive loss against one random negative image, and the map = the
// assignment logit of the visual centre nearest to the audio centre (the softmax row itself saturates to exact
// 1.0 in float32 at beta = 30; the logit ranks the positions the same way without ties; README.md).
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "dmc_cluster.h"

namespace avsl::plugins::dmc {
namespace {

namespace nn = torch::nn;

struct DmcOptions {
  int64_t dim = 512;
  int64_t visual_clusters = 2;
  int64_t audio_clusters = 1;
  int64_t iters = 4;
  double beta = 30.0;
  double margin = 5.0;
  int64_t sounding_rank = 0;  ///< sounding_cluster: 0 = nearest, 1 = second_nearest
  std::string confidence = "neg_distance";
};

struct Forward {
  Clusters visual, audio;
  int64_t h, w;
};

class Dmc final : public Method {
 public:
  Dmc(const DmcOptions& o, std::shared_ptr<Encoder> image, std::shared_ptr<Encoder> audio) : o_(o) {
    // DMC_NET's names and order; its unused fc_v_2, fc_a_2, pooling, pooling_a and fc_av are left out. The
    // linear layers keep PyTorch's default init, as the reference.
    visual_net_ = register_module("visual_net", std::move(image));
    audio_net_ = register_module("audio_net", std::move(audio));
    fc_v_1_ = register_module("fc_v_1", nn::Linear(visual_net_->out_channels(), o.dim));
    fc_a_1_ = register_module("fc_a_1", nn::Linear(audio_net_->out_channels(), o.dim));
  }

  StepOutput TrainStep(const Batch& batch) override {
    const int64_t n = batch.image.size(0);
    TORCH_CHECK(n >= 2,
                "dmc: a training batch needs at least 2 samples (each takes another sample's image as its "
                "negative), got ",
                n);
    const Forward f = Run(batch);
    // One random other image per audio, uniform over the n - 1 others. The visual clustering depends on the
    // image only, so the negative pair's centres are the other sample's, with no second forward.
    const torch::Tensor offset = torch::randint(1, n, {n}, torch::TensorOptions().dtype(torch::kLong));
    const torch::Tensor neg = ((torch::arange(n, offset.options()) + offset) % n).to(f.visual.centres.device());
    const torch::Tensor d_pos = std::get<0>(CentreDistances(f.visual.centres, f.audio.centres).min(1));  // [B,Ka]
    const torch::Tensor d_neg = std::get<0>(
        CentreDistances(f.visual.centres.index_select(0, neg), f.audio.centres).min(1));
    // ContrastiveLoss: output.pow(2).sum(1) over the Ka audio clusters.
    const torch::Tensor d2 = torch::cat({d_pos.pow(2).sum(1), d_neg.pow(2).sum(1)});
    const torch::Tensor y = torch::cat({torch::ones({n}, d2.options()), torch::zeros({n}, d2.options())});
    torch::Tensor loss = ContrastiveLoss(d2, y, o_.margin);
    return {loss,
            {{"dist_pos", d_pos.detach().mean().item<double>()}, {"dist_neg", d_neg.detach().mean().item<double>()}},
            {}};
  }

  Localization Localize(const Batch& batch) override {
    const Forward f = Run(batch);
    const torch::Tensor distances = CentreDistances(f.visual.centres, f.audio.centres);  // [B,Kv,Ka]
    Localization out;
    // The logit of k*'s assignment, from the last soft k-means iteration's distances: unbounded, so range_min and
    // range_max stay NaN (the evaluator's top-50% rule min-max normalizes each map itself).
    const torch::Tensor k_star = SoundingCluster(distances, o_.sounding_rank);  // [B]
    out.maps = AssignmentLogit(f.visual.point_distances, k_star, o_.beta).view({-1, f.h, f.w});
    if (o_.confidence == "neg_distance") {
      out.confidence = -std::get<0>(distances.flatten(1).min(1));
      out.confidence_name = "dmc -min_k ||o_v,k - o_a||";
    }
    return out;
  }

 private:
  Forward Run(const Batch& batch) {
    const torch::Tensor v = visual_net_->Forward(batch.image);  // [B,C,h,w]
    TORCH_CHECK(v.dim() == 4, "dmc: the image encoder must return [B,C,h,w], got ", v.sizes());
    const int64_t h = v.size(2), w = v.size(3);
    TORCH_CHECK(h * w >= o_.visual_clusters, "dmc: visual_clusters = ", o_.visual_clusters, " but the image map has ",
                h, "x", w, " = ", h * w, " positions (lower visual_clusters or use a larger map)");
    torch::Tensor a = audio_net_->Forward(batch.audio);
    if (a.dim() == 2) a = a.view({a.size(0), a.size(1), 1, 1});
    TORCH_CHECK(a.dim() == 4, "dmc: the audio encoder must return [B,C,h,w] or [B,C], got ", a.sizes());
    TORCH_CHECK(a.size(2) * a.size(3) >= o_.audio_clusters, "dmc: audio_clusters = ", o_.audio_clusters,
                " but the audio map has ", a.size(2), "x", a.size(3),
                " positions (the reference clusters the "
                "unpooled layer4 map: set audio_encoder.pool = \"none\")");
    // Row-major h*w positions, as view(B, C, H*W).permute(0, 2, 1): the initial centres depend on this order.
    const torch::Tensor u_v = fc_v_1_(v.flatten(2).transpose(1, 2));
    const torch::Tensor u_a = fc_a_1_(a.flatten(2).transpose(1, 2));
    Forward f;
    f.visual = SoftKMeans(u_v, o_.visual_clusters, o_.iters, o_.beta);
    f.audio = SoftKMeans(u_a, o_.audio_clusters, o_.iters, o_.beta);
    f.h = h;
    f.w = w;
    return f;
  }

  DmcOptions o_;
  std::shared_ptr<Encoder> visual_net_, audio_net_;
  nn::Linear fc_v_1_{nullptr}, fc_a_1_{nullptr};
};

Options<DmcOptions> DmcSchema() {
  Options<DmcOptions> o(
      "DMC (Simplified_DMC model/dmc_model.py); defaults are location_dmc.py's (--v_cluster 2 --a_cluster 1)");
  o.schema().Component("image_encoder", ComponentKind::kEncoder, "core.ResNet18Image",
                       "image backbone returning [B,C,h,w] (reference: LVS ResNet18, layer4_stride = 1 -> 14x14 at "
                       "224, random init: pretrained=False)");
  o.schema().Component("audio_encoder", ComponentKind::kEncoder, "core.ResNet18Audio",
                       "audio backbone returning its layer4 map (reference: pool = \"none\", layer4_stride = 1; a "
                       "pooled vector is one position, enough only for audio_clusters = 1)");
  o.Int("dim", &DmcOptions::dim, "output size of fc_v_1 and fc_a_1, the per-position linear layers (reference 512)")
      .Range(1, 65536);
  o.Int("visual_clusters", &DmcOptions::visual_clusters,
        "K_v: visual soft k-means clusters (--v_cluster 2: sounding object + background; the authors' README rule: "
        "the number of visual object classes in a scene + 1)")
      .Range(1, 4096);
  o.Int("audio_clusters", &DmcOptions::audio_clusters,
        "K_a: audio clusters (--a_cluster 1: the centre is the mean of the positions)")
      .Range(1, 4096);
  o.Int("iters", &DmcOptions::iters, "soft k-means iterations (Cluster_layer iters = 4)").Range(1, 100);
  o.Float("beta", &DmcOptions::beta,
          "assignment sharpness: softmax_k(-beta * distance) (Cluster_layer beta = -30, multiplied)")
      .Range(1e-6, 1e6);
  o.Float("margin", &DmcOptions::margin,
          "contrastive margin on the centre distance (location_dmc.py ContrastiveLoss(margin=5.))")
      .Range(0, 1e6);
  o.Choice("sounding_cluster", &DmcOptions::sounding_rank, {{"nearest", 0}, {"second_nearest", 1}},
           "visual cluster whose assignment logit is the map: nearest to the audio centre (argmin, the only cluster "
           "the loss ties to the audio) or second_nearest (with K_v = 2 the other cluster). The released code "
           "defines no readout: it dumps all K_v assignment rows; its idx = sort(dist)[:,1] is never used");
  o.String("confidence", &DmcOptions::confidence,
           "neg_distance: -min_k ||o_v,k - o_a||, the negated centre distance of the loss; generic: none native "
           "(the evaluator's top-25% mean of the map, an unbounded logit, so not comparable across samples)")
      .OneOf({"generic", "neg_distance"});
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeDmc(const Options<DmcOptions>& options, const ComponentConfig& c) {
  const DmcOptions opt = options.Read(c);
  if (opt.sounding_rank >= opt.visual_clusters) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(),
                                                   ".sounding_cluster' = \"second_nearest\" "
                                                   "needs visual_clusters >= 2, got ",
                                                   opt.visual_clusters));
  }
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> image, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> audio, BuildSub<Encoder>(c, "audio_encoder"));
  return std::make_shared<Dmc>(opt, std::move(image), std::move(audio));
}

}  // namespace
}  // namespace avsl::plugins::dmc

AVSL_PLUGIN("dmc", "1.0.0", "DMC: deep multimodal clustering, soft k-means in each modality (CVPR 2019)") {
  const auto options = avsl::plugins::dmc::DmcSchema();
  registrar.Register<avsl::Method>(
      "DMC", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::dmc::MakeDmc(options, c); },
      "DMC: soft k-means in each modality, map = nearest visual centre's assignment logit");
}
