// dsol: DSOL stage one (Hu et al., NeurIPS 2020) as in DTaoo/Discriminative-Sounding-Objects-Localization
// music-exp/model/location_model.py::Location_Net_stage_one and training_stage_one.py (see README.md).
// Map = σ(w·cos) between the projected image map and the projected audio vector (w = conv_av, init 5); BCE on its
// maximum for (audio, own image) = 1 and (audio, another sample's image) = 0; k-means pseudo labels on the masked
// object features train two classifiers. The map's maximum is the native confidence.
//
// Every step adds its samples' object features to a bank keyed by sample key; the trainer's epoch-end event
// (Method::OnTrainEvent) clusters the bank (README.md, "Epochs").
// Stage two (multi-source, Location_Net_stage_two) is not implemented; `stage = 2` is refused.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <set>
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
#include "dsol_loss.h"

namespace avsl::plugins::dsol {
namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

struct DsolOptions {
  int64_t stage = 1;  ///< only 1 is implemented; 2 is refused by the factory
  int64_t dim = 128;
  double conv_av_init = 5.0;
  double mask_threshold = 0.05;
  int64_t num_clusters = 11;
  int64_t init_epochs = 2;
  double class_weight = 1.0;
  bool reinit_classifiers = true;
  double classifier_init_std = 0.01;
  int64_t kmeans_max_iter = 300;
  int64_t kmeans_restarts = 10;
  double kmeans_tol = 1e-4;
};

// The bank key of a sample without a key: its step and position.
constexpr const char* kKeylessPrefix = "#step";

// State kept in a buffer so a checkpoint restores it: steps seen, epochs completed, centroids valid (0/1).
enum StateIndex : int64_t { kSteps = 0, kEpochs = 1, kReady = 2 };

class Dsol final : public Method {
 public:
  Dsol(const DsolOptions& o, std::shared_ptr<Encoder> visual, std::shared_ptr<Encoder> audio) : o_(o) {
    const int64_t cv = visual->out_channels(), ca = audio->out_channels();
    // The released attribute names and order, so its state_dict maps by name.
    visual_net_ = register_module("visual_net", std::move(visual));
    audio_net_ = register_module("audio_net", std::move(audio));
    conv_v_1_ = register_module("conv_v_1", nn::Conv2d(nn::Conv2dOptions(cv, o.dim, 1)));
    conv_v_2_ = register_module("conv_v_2", nn::Conv2d(nn::Conv2dOptions(o.dim, o.dim, 1)));
    fc_a_1_ = register_module("fc_a_1", nn::Linear(ca, o.dim));
    fc_a_2_ = register_module("fc_a_2", nn::Linear(o.dim, o.dim));
    conv_av_ = register_module("conv_av", nn::Conv2d(nn::Conv2dOptions(1, 1, 1).bias(false)));
    v_class_layer_ = register_module("v_class_layer", nn::Linear(cv, o.num_clusters));
    a_class_layer_ = register_module("a_class_layer", nn::Linear(ca, o.num_clusters));
    centroids_ = register_buffer("kmeans_centroids", torch::zeros({o.num_clusters, cv}));
    state_ = register_buffer("kmeans_state", torch::zeros({3}, torch::kLong));
    torch::NoGradGuard no_grad;
    conv_av_->weight.fill_(o.conv_av_init);  // av_model_cuda.conv_av.weight.data.fill_(5.)
  }

  StepOutput TrainStep(const Batch& batch) override {
    const int64_t b = batch.image.size(0);
    TORCH_CHECK(b >= 2,
                "dsol.DSOL: a training batch needs at least 2 samples (the negative image is another "
                "sample's), got ",
                b);
    StepOutput out;
    // What the last epoch end computed is logged with the first step after it (metrics.jsonl train records).
    for (auto& entry : pending_logs_) out.logs.push_back(std::move(entry));
    pending_logs_.clear();

    const torch::Tensor v_fea = visual_net_->Forward(batch.image);
    const torch::Tensor a_fea = AudioVector(batch.audio);
    const torch::Tensor v = conv_v_2_(torch::relu(conv_v_1_(v_fea)));
    const torch::Tensor a = fc_a_2_(torch::relu(fc_a_1_(a_fea)));
    // One random mismatched image per audio: sample i pairs with (i + r_i) mod B, r_i in [1, B-1].
    const torch::Tensor shift = torch::randint(1, b, {b}, torch::TensorOptions().dtype(torch::kLong));
    const torch::Tensor other = (torch::arange(b, torch::kLong) + shift).remainder(b).to(v.device());
    const torch::Tensor pos_map = DsolAvMap(v, a, conv_av_->weight);
    const torch::Tensor neg_map = DsolAvMap(v.index_select(0, other), a, conv_av_->weight);
    const torch::Tensor pos_max = pos_map.flatten(1).amax(1), neg_max = neg_map.flatten(1).amax(1);
    torch::Tensor loss = DsolLocalizationLoss(pos_max, neg_max);
    out.logs.push_back({"loss_loc", loss.item<double>()});
    out.logs.push_back({"av_acc", 0.5 * ((pos_max > 0.5).sum().item<double>() + (neg_max <= 0.5).sum().item<double>()) /
                                      static_cast<double>(b)});

    // extract_feature: object features of the own pairs, L2-normalized for k-means (detached: bank only).
    const torch::Tensor obj = F::normalize(ObjectFeatures(v_fea.detach(), pos_map.detach(), o_.mask_threshold),
                                           F::NormalizeFuncOptions().dim(1));
    AddToBank(batch, obj);
    if (state_[kReady].item<int64_t>() != 0) {
      // class_model_train: CE(v_logits, pl) + CE(a_logits, pl), labels = the nearest object-dictionary centre.
      const torch::Tensor pl = NearestCentroid(obj, centroids_).to(v_fea.device());
      const torch::Tensor v_logits = v_class_layer_(v_fea.mean({2, 3}));
      const torch::Tensor a_logits = a_class_layer_(a_fea);
      const torch::Tensor cls = F::cross_entropy(v_logits, pl) + F::cross_entropy(a_logits, pl);
      out.logs.push_back({"loss_cls", cls.item<double>()});
      loss = loss + o_.class_weight * cls;
    }
    {
      torch::NoGradGuard no_grad;
      state_[kSteps] += 1;
    }
    out.loss = loss;
    return out;
  }

  void OnTrainEvent(const TrainEvent& event) override {
    if (event.type == TrainEvent::Type::kEpochEnd) EndEpoch(event.ranks, pending_logs_);
  }

  Localization Localize(const Batch& batch) override {
    const torch::Tensor v = conv_v_2_(torch::relu(conv_v_1_(visual_net_->Forward(batch.image))));
    const torch::Tensor a = fc_a_2_(torch::relu(fc_a_1_(AudioVector(batch.audio))));
    Localization out;
    out.maps = DsolAvMap(v, a, conv_av_->weight);           // [B,h,w] in (0,1)
    out.confidence = out.maps.detach().flatten(1).amax(1);  // av_output: the AV-match probability
    out.confidence_name = "dsol_av_output";
    out.range_min = 0.0;
    out.range_max = 1.0;
    return out;
  }

 private:
  torch::Tensor AudioVector(const torch::Tensor& audio) {
    torch::Tensor a = audio_net_->Forward(audio);
    if (a.dim() == 4) {
      // pooling_a = AdaptiveMaxPool2d(1), the released code; core.ResNet18Audio pool = "max" has done it already.
      a = a.amax({2, 3});
    }
    return a.flatten(1);
  }

  void AddToBank(const Batch& batch, const torch::Tensor& obj) {
    const torch::Tensor rows = obj.to(torch::kCPU);
    for (int64_t i = 0; i < rows.size(0); ++i) {
      const std::string key = i < static_cast<int64_t>(batch.keys.size()) && !batch.keys[i].empty()
                                  ? batch.keys[i]
                                  : absl::StrCat(kKeylessPrefix, state_[kSteps].item<int64_t>(), "_", i);
      auto [it, inserted] = bank_index_.emplace(key, bank_.size());
      if (inserted) {
        bank_.push_back(rows[i]);
      } else {
        bank_[it->second] = rows[i];
      }
    }
  }

  // End of a training epoch: after `init_epochs` localization-only epochs, cluster the bank (K-means on the
  // normalized object features), keep the centres as the object dictionary, re-initialize the classifiers as
  // class_model_train does (cluster ids are arbitrary, so old classifier rows mean nothing), and empty the bank.
  // In a data-parallel run every rank clusters the whole epoch's bank, gathered from all ranks (README.md).
  void EndEpoch(RankGroup* ranks, std::vector<std::pair<std::string, double>>& logs) {
    torch::NoGradGuard no_grad;
    state_[kEpochs] += 1;
    const int64_t epochs = state_[kEpochs].item<int64_t>();
    const torch::Tensor bank = ranks != nullptr && ranks->world_size() > 1 ? GatherBank(*ranks) : LocalBank();
    const int64_t n = bank.size(0);
    logs.push_back({"bank_size", static_cast<double>(n)});
    if (epochs >= o_.init_epochs && n >= o_.num_clusters) {
      const KMeansResult km = KMeans(bank, o_.num_clusters, o_.kmeans_max_iter, o_.kmeans_restarts, o_.kmeans_tol);
      centroids_.copy_(km.centroids.to(centroids_.device()));
      state_[kReady].fill_(1);
      logs.push_back({"kmeans_inertia", km.inertia});
      if (o_.reinit_classifiers) {
        for (nn::Linear* l : {&v_class_layer_, &a_class_layer_}) {
          (*l)->weight.normal_(0.0, o_.classifier_init_std);
          (*l)->bias.zero_();
        }
      }
    }
    bank_.clear();
    bank_index_.clear();
  }

  torch::Tensor LocalBank() const {
    return bank_.empty() ? torch::zeros({0, centroids_.size(1)}) : torch::stack(bank_);
  }

  // Every rank's bank rows in rank order, one row per sample key: the sampler's padding ("pad" shard tail) repeats
  // a few samples on a second rank, and the first copy is kept, as one process keeps one row per key. Keys travel
  // as 64-bit FNV-1a hashes; rows of keyless samples (whose stand-in keys repeat across ranks) as 0, never merged.
  torch::Tensor GatherBank(RankGroup& ranks) const {
    std::vector<int64_t> hashes(bank_.size());
    for (const auto& [key, row] : bank_index_) {
      hashes[row] = key.rfind(kKeylessPrefix, 0) == 0 ? 0 : static_cast<int64_t>(SampleKeyHash(key));
    }
    const torch::Tensor rows = ranks.AllGather(LocalBank()).all;
    const torch::Tensor keys = ranks.AllGather(torch::tensor(hashes, torch::kLong)).all;
    std::set<int64_t> seen;
    std::vector<int64_t> keep;
    const auto* k = keys.data_ptr<int64_t>();
    for (int64_t i = 0; i < keys.size(0); ++i) {
      if (k[i] == 0 || seen.insert(k[i]).second) keep.push_back(i);
    }
    return rows.index_select(0, torch::tensor(keep, torch::kLong));
  }

  DsolOptions o_;
  std::shared_ptr<Encoder> visual_net_, audio_net_;
  nn::Conv2d conv_v_1_{nullptr}, conv_v_2_{nullptr}, conv_av_{nullptr};
  nn::Linear fc_a_1_{nullptr}, fc_a_2_{nullptr}, v_class_layer_{nullptr}, a_class_layer_{nullptr};
  torch::Tensor centroids_, state_;
  std::vector<torch::Tensor> bank_;                           ///< object features of this epoch's samples (CPU)
  std::map<std::string, size_t> bank_index_;                  ///< sample key -> row of bank_
  std::vector<std::pair<std::string, double>> pending_logs_;  ///< bank_size, kmeans_inertia of the epoch end
};

Options<DsolOptions> DsolSchema() {
  Options<DsolOptions> o("DSOL stage one (music-exp/model/location_model.py, training_stage_one.py); defaults are "
                         "the released code's");
  o.schema().Component("image_encoder", ComponentKind::kEncoder, "core.ResNet18Image",
                       "image backbone [B,C,h,w]; released: LVS ResNet18, layer4 stride 1 (set layer4_stride = 1: "
                       "14x14 at 224), ImageNet weights");
  o.schema().Component("audio_encoder", ComponentKind::kEncoder, "core.ResNet18Audio",
                       "audio backbone; global max pooling (pooling_a), applied here when the encoder returns a map");
  o.Int("stage", &DsolOptions::stage,
        "1: stage one (single source). 2 (multi-source stage two) is not implemented and refused")
      .Range(1, 2);
  o.Int("dim", &DsolOptions::dim, "channels of the conv_v_1/conv_v_2 and fc_a_1/fc_a_2 projections (released 128)")
      .Range(1, 65536);
  o.Float("conv_av_init", &DsolOptions::conv_av_init,
          "initial weight of the bias-free 1x1 conv_av scaling the cosine (released 5)")
      .Range(-1000, 1000);
  o.Float("mask_threshold", &DsolOptions::mask_threshold,
          "object mask: av_map > threshold, then 4-neighbour dilation (--mask 0.05)")
      .Range(0, 1);
  o.Int("num_clusters", &DsolOptions::num_clusters,
        "K of the k-means pseudo labels and the classifier outputs (--cluster 11, MUSIC)")
      .Range(2, 100000);
  o.Int("init_epochs", &DsolOptions::init_epochs,
        "localization-only epochs before the first k-means (released --init_num 1 gives 2: it increments init_num, "
        "then tests init_num > 1)")
      .Range(1, 100000);
  o.Float("class_weight", &DsolOptions::class_weight,
          "weight of CE(v_logits) + CE(a_logits) added to the BCE once pseudo labels exist")
      .Range(0, 1000);
  o.Bool("reinit_classifiers", &DsolOptions::reinit_classifiers,
         "re-initialize both classifiers after every k-means (class_model_train)");
  o.Float("classifier_init_std", &DsolOptions::classifier_init_std,
          "std of the classifier weight re-initialization (normal_(0, 0.01))")
      .Range(0, 10);
  o.Int("kmeans_max_iter", &DsolOptions::kmeans_max_iter, "Lloyd iterations per k-means run (sklearn KMeans default)")
      .Range(1, 100000);
  o.Int("kmeans_restarts", &DsolOptions::kmeans_restarts,
        "k-means++ restarts, lowest inertia kept (sklearn n_init default)")
      .Range(1, 1000);
  o.Float("kmeans_tol", &DsolOptions::kmeans_tol,
          "stop when the centres move less than tol x the data's mean variance (sklearn)")
      .Range(0, 1);
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeDsol(const Options<DsolOptions>& options, const ComponentConfig& c) {
  const DsolOptions opt = options.Read(c);
  if (opt.stage != 1) {
    return absl::UnimplementedError(absl::StrCat(
        "recipe key '", c.path(), ".stage' = ", opt.stage,
        ": DSOL stage two (the multi-source Location_Net_stage_two: object-dictionary class maps, KL to the "
        "stage-one audio classes, 2x2 cocktail-party training) is not implemented in the dsol plugin; only "
        "stage = 1 (single-source localization, what Flickr and VGG-SS use) is available (plugins/dsol/README.md)"));
  }
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> visual, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> audio, BuildSub<Encoder>(c, "audio_encoder"));
  return std::make_shared<Dsol>(opt, std::move(visual), std::move(audio));
}

}  // namespace
}  // namespace avsl::plugins::dsol

AVSL_PLUGIN("dsol", "1.0.0", "DSOL stage one: sigmoid-of-cosine map, BCE on its max, k-means pseudo labels") {
  const auto options = avsl::plugins::dsol::DsolSchema();
  registrar.Register<avsl::Method>(
      "DSOL", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::dsol::MakeDsol(options, c); },
      "DSOL stage one; native confidence = max of the sigmoid map");
}
