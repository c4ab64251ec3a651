// coarse2fine: "Multiple Sound Sources Localization from Coarse to Fine" (Qian et al., ECCV 2020), the simplified
// ResNet18 version of shvdiwnkozbw/Multi-Source-Sound-Localization new/ (stage_one.py::MTask,
// stage_two.py::Align/Location, main.py; README.md describes what they do).
//   stage one: audio-visual correspondence (AVC) head on all N×N pairs + audio/visual class heads (BCE on soft
//              pseudo labels);
//   stage two: + class-aware alignment of CAM-weighted class-specific features (margin 1.4);
//   test:      class-aware map Σ_c p_c·ReLU(<fine_a_c, project_v(feat_v)>) over the confident classes.
// The pseudo labels come from the source the recipe names (label_source): the synthetic benchmark's classes
// (batch.class_id) or a file of per-sample soft labels, because the released taggers are not public.
// The released test applies the sigmoid twice (p = σ(σ(cls_a))); here once, unless double_sigmoid = true.
// Stage switching counts steps: TrainStep counts its calls (a checkpointed buffer) and adds the alignment term from
// step stage_one_steps on. It predates Method::OnTrainEvent and stays step-based: a step count needs no epoch length.
// The released stage two's lower lr is the recipe's [schedule] (core.MultiStep at the same boundary), and
// train.select_from_epoch keeps the early-stopped checkpoint within stage two.
// map_relu = false drops the ReLU of the per-class cosine in the test map (README, "The ReLU map and the top-50 %
// rule"): the released ReLU leaves exact-zero plateaus that the relative threshold cannot split.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "coarse2fine_loss.h"
#include "soft_label_file.h"

namespace avsl::plugins::coarse2fine {
namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

struct C2fOptions {
  int64_t num_classes = 7;
  int64_t stage = 2;
  int64_t stage_one_steps = 0;
  int64_t avc_hidden = 128;
  int64_t proj_hidden = 1024;
  int64_t proj_dim = 128;
  double class_threshold = 0.3;
  double margin = 1.4;
  bool use_class_id = true;  ///< label_source = "class_id" (false: "file")
  bool double_sigmoid = false;
  bool avc_confidence = true;  ///< confidence = "avc" (else "class")
  bool map_relu = true;        ///< the released Location: ReLU of the per-class cosine in the test map
};

class CoarseToFine final : public Method {
 public:
  CoarseToFine(C2fOptions o, std::shared_ptr<const SoftLabelTable> labels, std::shared_ptr<Encoder> vision,
               std::shared_ptr<Encoder> audio)
      : o_(std::move(o)), labels_(std::move(labels)) {
    const int64_t cv = vision->out_channels(), ca = audio->out_channels();
    // The released attribute names and order (stage_two.py::Align / Location), so its state_dict maps by name.
    vision_ = register_module("vision", std::move(vision));
    audio_ = register_module("audio", std::move(audio));
    avc_ = register_module(
        "avc", nn::Sequential(nn::Linear(ca + cv, o_.avc_hidden), nn::ReLU(), nn::Linear(o_.avc_hidden, 2)));
    auto project = [&](int64_t c) {
      return nn::Sequential(nn::Conv1d(nn::Conv1dOptions(c, o_.proj_hidden, 1).bias(false)), nn::ReLU(),
                            nn::Conv1d(nn::Conv1dOptions(o_.proj_hidden, o_.proj_dim, 1).bias(false)));
    };
    project_a_ = register_module("project_a", project(ca));
    project_v_ = register_module("project_v", project(cv));
    class_a_ = register_module("class_a", nn::Conv2d(nn::Conv2dOptions(ca, o_.num_classes, 1).bias(false)));
    class_v_ = register_module("class_v", nn::Conv2d(nn::Conv2dOptions(cv, o_.num_classes, 1).bias(false)));
    step_ = register_buffer("step", torch::zeros({1}, torch::kLong));
  }

  StepOutput TrainStep(const Batch& batch) override {
    const int64_t n = batch.image.size(0);
    TORCH_CHECK(n >= 2,
                "coarse2fine.CoarseToFine: a training batch needs at least 2 samples (the AVC negatives "
                "are the other pairs of the batch), got ",
                n);
    const bool stage_two = o_.stage == 2 && step_.item<int64_t>() >= o_.stage_one_steps;
    auto [y_a, y_v, valid] = PseudoLabels(batch);
    const torch::Tensor feat_a = AudioMap(batch.audio), feat_v = vision_->Forward(batch.image);
    const torch::Tensor pa = feat_a.mean({2, 3}), pv = feat_v.mean({2, 3});  // avgpool
    const torch::Tensor cls_a = Logits(class_a_, pa), cls_v = Logits(class_v_, pv);
    const torch::Tensor aloss = ClassLoss(cls_a, y_a.to(cls_a.device()), valid.to(cls_a.device()));
    const torch::Tensor vloss = ClassLoss(cls_v, y_v.to(cls_v.device()), valid.to(cls_v.device()));
    const torch::Tensor avcloss = AvcLoss(Avc(pa, pv));
    torch::Tensor loss = aloss + vloss + avcloss;
    StepOutput out;
    out.logs = {{"loss_cls_a", aloss.item<double>()},
                {"loss_cls_v", vloss.item<double>()},
                {"loss_avc", avcloss.item<double>()},
                {"stage", stage_two ? 2.0 : 1.0}};
    if (stage_two) {
      // Align.forward: CAMs detached, class-specific features, 1x1 projections, L2-normalized over D.
      const torch::Tensor fine_a = Project(project_a_, ClassFeatures(feat_a, torch::relu(class_a_(feat_a)).detach()));
      const torch::Tensor fine_v = Project(project_v_, ClassFeatures(feat_v, torch::relu(class_v_(feat_v)).detach()));
      const torch::Tensor dloss = AlignLoss(fine_a, fine_v, cls_a, cls_v, o_.class_threshold, o_.margin);
      out.logs.push_back({"loss_align", dloss.item<double>()});
      loss = loss + dloss;
    }
    {
      torch::NoGradGuard no_grad;
      step_ += 1;
    }
    out.loss = loss;
    return out;
  }

  Localization Localize(const Batch& batch) override {
    // Location.forward + test(): the class-specific audio feature of each class (CAM not detached at test time,
    // which only matters for gradients) against project_v at every image position.
    const torch::Tensor feat_a = AudioMap(batch.audio), feat_v = vision_->Forward(batch.image);
    const int64_t h = feat_v.size(2), w = feat_v.size(3);
    const torch::Tensor fine_a = Project(project_a_, ClassFeatures(feat_a, torch::relu(class_a_(feat_a))));
    const torch::Tensor fine_v = Project(project_v_, feat_v.flatten(2));  // [N,D,hw]
    const torch::Tensor pa = feat_a.mean({2, 3}), pv = feat_v.mean({2, 3});
    torch::Tensor p = torch::sigmoid(Logits(class_a_, pa));
    if (o_.double_sigmoid) p = torch::sigmoid(p);  // the released main.py::test quirk
    Localization out;
    out.maps = ClassAwareMap(fine_a, fine_v, p, o_.class_threshold, o_.map_relu).view({-1, h, w});
    if (o_.avc_confidence) {
      // softmax(avc_ii)[1]: the AVC head's probability that audio i and image i correspond.
      out.confidence = torch::softmax(avc_->forward(torch::cat({pa, pv}, 1)), 1).select(1, 1).detach();
      out.confidence_name = "c2f_avc";
    } else {
      out.confidence = p.amax(1).detach();
      out.confidence_name = o_.double_sigmoid ? "c2f_max_class_prob_double_sigmoid" : "c2f_max_class_prob";
    }
    // With the ReLU the map is >= 0 and divided by its maximum: [0, 1]. Without it, a weighted mean of cosines
    // divided by its maximum absolute value: [-1, 1].
    out.range_min = o_.map_relu ? 0.0 : -1.0;
    out.range_max = 1.0;
    return out;
  }

 private:
  torch::Tensor AudioMap(const torch::Tensor& audio) {
    torch::Tensor a = audio_->Forward(audio);
    if (a.dim() == 2) a = a.unsqueeze(-1).unsqueeze(-1);  // a pooled encoder: a 1x1 "map"
    return a;
  }

  // class_* is a bias-free 1x1 conv; on the pooled [N,C,1,1] feature it is a matrix product.
  static torch::Tensor Logits(const nn::Conv2d& head, const torch::Tensor& pooled) {
    return torch::mm(pooled, head->weight.flatten(1).t());
  }

  torch::Tensor Avc(const torch::Tensor& pa, const torch::Tensor& pv) {
    // fusion[i][j] = cat(audio_i, image_j), all N×N pairs.
    const int64_t n = pa.size(0);
    const torch::Tensor fusion = torch::cat(
        {pa.unsqueeze(1).expand({n, n, pa.size(1)}), pv.unsqueeze(0).expand({n, n, pv.size(1)})}, 2);
    return avc_->forward(fusion);  // [N,N,2]
  }

  static torch::Tensor Project(nn::Sequential& head, const torch::Tensor& x) {
    return F::normalize(head->forward(x), F::NormalizeFuncOptions().dim(1));
  }

  // y_a, y_v [N,C] float and a [N] bool mask of the samples that have labels.
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> PseudoLabels(const Batch& batch) const {
    const int64_t n = batch.image.size(0), c = o_.num_classes;
    torch::Tensor y_a = torch::zeros({n, c}), y_v = torch::zeros({n, c});
    torch::Tensor valid = torch::zeros({n}, torch::kBool);
    if (o_.use_class_id) {
      TORCH_CHECK(batch.class_id.defined() && batch.class_id.numel() == n,
                  "coarse2fine.CoarseToFine: label_source = \"class_id\" but the batch carries no class ids");
      const torch::Tensor ids = batch.class_id.to(torch::kCPU);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t id = ids[i].item<int64_t>();
        if (id < 0) continue;  // unknown class: no class loss for this sample
        TORCH_CHECK(id < c, "coarse2fine.CoarseToFine: sample ",
                    i < static_cast<int64_t>(batch.keys.size()) ? batch.keys[i] : std::to_string(i), " has class_id ",
                    id, ", but num_classes = ", c, "; set model.num_classes to the dataset's ",
                    "class count (label_source = \"class_id\")");
        y_a[i][id] = 1.0;
        y_v[i][id] = 1.0;
        valid[i] = true;
      }
    } else {
      TORCH_CHECK(static_cast<int64_t>(batch.keys.size()) == n,
                  "coarse2fine.CoarseToFine: label_source = \"file\" "
                  "needs sample keys, the batch has ",
                  batch.keys.size(), " for ", n, " samples");
      for (int64_t i = 0; i < n; ++i) {
        const SoftLabels* row = labels_->Find(batch.keys[i]);
        TORCH_CHECK(row != nullptr, "coarse2fine.CoarseToFine: sample key '", batch.keys[i],
                    "' has no row in the soft label file ", labels_->path());
        y_a[i].copy_(torch::tensor(row->audio));
        y_v[i].copy_(torch::tensor(row->visual));
        valid[i] = true;
      }
    }
    return {y_a, y_v, valid};
  }

  C2fOptions o_;
  std::shared_ptr<const SoftLabelTable> labels_;  ///< label_source = "file"
  std::shared_ptr<Encoder> vision_, audio_;
  nn::Sequential avc_{nullptr}, project_a_{nullptr}, project_v_{nullptr};
  nn::Conv2d class_a_{nullptr}, class_v_{nullptr};
  torch::Tensor step_;
};

Options<C2fOptions> CoarseToFineSchema() {
  Options<C2fOptions> o("CoarsetoFine, simplified two-stage version (Multi-Source-Sound-Localization new/); "
                        "defaults are the released code's");
  o.schema().Component("image_encoder", ComponentKind::kEncoder, "core.ResNet18Image",
                       "image backbone [B,C,h,w]; released: LVS ResNet18, layer4 stride 1 (16x16 at 256), "
                       "ImageNet weights");
  o.schema().Component("audio_encoder", ComponentKind::kEncoder, "core.ResNet18Audio",
                       "audio backbone; set pool = \"none\" (the CAMs need the layer4 map; average pooling is done "
                       "here)");
  o.Int("num_classes", &C2fOptions::num_classes, "C: pseudo-label classes (released: 7 AudioSet top-level categories)")
      .Range(1, 100000);
  o.Int("stage", &C2fOptions::stage,
        "1: stage-one loss only (main.py --stage 1); 2: + alignment (--stage 2, from stage_one_steps)")
      .Range(1, 2);
  o.Int("stage_one_steps", &C2fOptions::stage_one_steps,
        "with stage = 2: training steps run with the stage-one loss before the alignment term is added (both stages "
        "in one run); 0: alignment from the first step (the released second run, --init-from a stage-one run)")
      .Range(0, 1000000000);
  o.Choice("label_source", &C2fOptions::use_class_id, {{"class_id", true}, {"file", false}},
           "pseudo labels: class_id (one-hot of the dataset's class, e.g. the synthetic benchmark) or file");
  // No default, so not a member of C2fOptions: the factory reads it where label_source = "file".
  o.schema().OptionalString("label_file",
                            "with label_source = \"file\": CSV of key,audio labels[,visual labels] (README, label "
                            "file format)");
  o.Int("avc_hidden", &C2fOptions::avc_hidden,
        "hidden width of the AVC head Linear(2C,h)-ReLU-Linear(h,2) (released 128)")
      .Range(1, 65536);
  o.Int("proj_hidden", &C2fOptions::proj_hidden,
        "hidden width of project_a/project_v (Conv1d C->h->dim, bias-free; released 1024)")
      .Range(1, 65536);
  o.Int("proj_dim", &C2fOptions::proj_dim, "output width of project_a/project_v (released 128)").Range(1, 65536);
  o.Float("class_threshold", &C2fOptions::class_threshold,
          "class probability gate of the alignment loss and the test map (released 0.3)")
      .Range(0, 1);
  o.Float("margin", &C2fOptions::margin, "negative margin on sqrt(2 - 2 cos) in the alignment loss (released 1.4)")
      .Range(0, 2);
  o.Bool("double_sigmoid", &C2fOptions::double_sigmoid,
         "true: p = sigmoid(sigmoid(cls_a)) in the test map, the released test's bug (every class passes 0.3)");
  o.Choice("confidence", &C2fOptions::avc_confidence, {{"avc", true}, {"class", false}},
           "native confidence: avc (softmax(avc_ii)[1]) or class (max_c p_c)");
  o.Bool("map_relu", &C2fOptions::map_relu,
         "true: the released test map, ReLU of each class's cosine, divided by its max, in [0,1]; false: the "
         "class-weighted cosine without the ReLU, divided by its max |value|, in [-1,1] (no exact-zero ties for the "
         "top-50 % rule)");
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeCoarseToFine(const Options<C2fOptions>& options, const ComponentConfig& c) {
  const C2fOptions opt = options.Read(c);
  const std::string file = c.Has("label_file") ? c.GetString("label_file") : "";
  std::shared_ptr<const SoftLabelTable> labels;
  if (!opt.use_class_id) {
    if (file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(), ".label_source' = \"file\" needs '",
                                                     c.path(), ".label_file' (per-sample soft labels)"));
    }
    AVSL_ASSIGN_OR_RETURN(SoftLabelTable table, SoftLabelTable::Load(file, opt.num_classes));
    labels = std::make_shared<const SoftLabelTable>(std::move(table));
  } else if (!file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(), ".label_file' is set, but ", c.path(),
                                                   ".label_source = \"class_id\" does not read it; set ",
                                                   "label_source = \"file\" or remove label_file"));
  }
  if (opt.stage == 1 && opt.stage_one_steps != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "recipe key '", c.path(), ".stage_one_steps' = ", opt.stage_one_steps, " only applies with stage = 2"));
  }
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> vision, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> audio, BuildSub<Encoder>(c, "audio_encoder"));
  return std::make_shared<CoarseToFine>(opt, std::move(labels), std::move(vision), std::move(audio));
}

}  // namespace
}  // namespace avsl::plugins::coarse2fine

AVSL_PLUGIN("coarse2fine", "1.0.0",
            "CoarsetoFine (simplified new/ version): AVC + class heads, class-aware alignment") {
  const auto options = avsl::plugins::coarse2fine::CoarseToFineSchema();
  registrar.Register<avsl::Method>(
      "CoarseToFine", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::coarse2fine::MakeCoarseToFine(options, c); },
      "CoarsetoFine two-stage; native confidence = AVC probability");
}
