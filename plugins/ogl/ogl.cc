// ogl: object-guided localization (EZ-VSL's and SLAVC's test.py) for any method, and the object prior alone.
//   ogl.OGL          wraps a `base` method: training is the base's; Localize mixes the base's map with the prior.
//   ogl.ObjectPrior  the prior alone (the "OGL" rows of the reference tables): what "no audio" achieves.
// The prior network is deliberately not a registered submodule: it is frozen and rebuilt from `weights`, so it
// stays out of the optimizer, of method->train(), and of every checkpoint (11.2 M parameters each time).
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "object_prior.h"

namespace avsl::plugins::ogl {
namespace {

/// The prior network's options, shared by both components.
struct PriorOptions {
  std::string weights;
  int64_t prior_input_size = 0;
  double prior_max = 2.5;
};

struct OglOptions : PriorOptions {
  Convention convention = Convention::kSlavc;
  double alpha = -1;  ///< -1 in the recipe: the convention's own (DefaultAlpha); resolved before Ogl is built
  std::string base_weights;
  int64_t output_size = 224;
};

struct ObjectPriorOptions : PriorOptions {
  bool constant_confidence = false;  ///< confidence = "constant"
};

class Ogl final : public Method {
 public:
  Ogl(std::shared_ptr<Method> base, std::shared_ptr<PriorNetwork> prior, OglOptions options, std::string base_type)
      : prior_(std::move(prior)), options_(std::move(options)), base_type_(std::move(base_type)) {
    base_ = register_module("base", std::move(base));
  }

  StepOutput TrainStep(const Batch& batch) override { return base_->TrainStep(batch); }
  void AfterOptimizerStep() override { base_->AfterOptimizerStep(); }
  void OnTrainEvent(const TrainEvent& event) override { base_->OnTrainEvent(event); }
  bool trainable() const override { return base_->trainable(); }

  Localization Localize(const Batch& batch) override {
    Localization av = base_->Localize(batch);
    const torch::Tensor obj = prior_->Maps(batch.image).to(av.maps.dtype());
    // Both maps are mixed on the output grid, after the convention's interpolation, as test.py does at 224.
    const torch::Tensor av_up = UpsampleMaps(av.maps, options_.output_size, options_.convention);
    const torch::Tensor obj_up = UpsampleMaps(obj, options_.output_size, options_.convention);
    const bool av_range = std::isfinite(av.range_min) && std::isfinite(av.range_max) && av.range_max > av.range_min;
    Localization out;
    out.range_min = 0.0;
    out.range_max = 1.0;
    if (options_.convention == Convention::kEzvsl) {
      out.maps = CombineEzvsl(av_up, obj_up, options_.alpha);
      // EZ-VSL defines no confidence and its per-sample min-max removes the map's level, so the detection
      // confidence stays the AV method's: its own, or SLAVC's top-25% mean of its fixed-range map.
      if (av.confidence.defined()) {
        out.confidence = av.confidence;
        out.confidence_name = av.confidence_name + " (base method; OGL ezvsl convention)";
      } else {
        const torch::Tensor scores = av_range ? (av_up - av.range_min) / (av.range_max - av.range_min) : av_up;
        out.confidence = TopFractionMean(scores, 0.25);
        out.confidence_name = "top-25% mean of the base AV map (OGL ezvsl convention)";
      }
    } else {
      TORCH_CHECK(av_range, "ogl.OGL convention = \"slavc\" mixes fixed ranges, but the base method '", base_type_,
                  "' declares no score range (Localization.range_min/max); use convention = \"ezvsl\"");
      // The mixed fixed-range map is SLAVC's `scores_av_obj`; leaving confidence undefined makes the evaluator
      // take its top-25% mean, SLAVC's confidence for AV+OGL (test.py).
      out.maps = CombineSlavc(av_up, obj_up, options_.alpha, av.range_min, av.range_max, options_.prior_max);
    }
    return out;
  }

 private:
  std::shared_ptr<Method> base_;
  std::shared_ptr<PriorNetwork> prior_;
  OglOptions options_;
  std::string base_type_;
};

class ObjectPrior final : public Method {
 public:
  ObjectPrior(std::shared_ptr<PriorNetwork> prior, double prior_max, bool constant_confidence)
      : prior_(std::move(prior)), prior_max_(prior_max), constant_confidence_(constant_confidence) {}

  StepOutput TrainStep(const Batch& batch) override { return {torch::zeros({}, batch.image.options()), {}, {}}; }

  Localization Localize(const Batch& batch) override {
    Localization out;
    out.maps = prior_->Maps(batch.image);
    // SLAVC's fixed object range: the evaluator maps [0, prior_max] to [0, 1] (scores_obj), whose top-25% mean
    // is SLAVC's confidence for the OGL row.
    out.range_min = 0.0;
    out.range_max = prior_max_;
    if (constant_confidence_) {
      out.confidence = torch::ones({out.maps.size(0)}, out.maps.options());
      out.confidence_name = "constant";
    }
    return out;
  }

  bool trainable() const override { return false; }

 private:
  std::shared_ptr<PriorNetwork> prior_;
  double prior_max_;
  bool constant_confidence_;
};

// The base's members (declared in PriorOptions) bind with explicit member types: a pointer to a base member
// converts to T's, but is not deduced as one.
template <typename T>
void AddPriorFields(Options<T>& o) {
  o.String("weights", &T::weights,
           "torch.save file with torchvision's ImageNet ResNet18 state_dict (IMAGENET1K_V1); required, building "
           "fails with instructions when empty");
  o.template Int<int64_t>("prior_input_size", &T::prior_input_size,
                          "resize images to this side before the prior network; 0 = as given (reference)")
      .Range(0, 4096);
  o.template Float<double>("prior_max", &T::prior_max,
                           "upper end of the prior's fixed range (SLAVC test.py hard-codes [0, 2.5])")
      .Min(1e-9);
}

Options<OglOptions> MakeOglOptions() {
  Options<OglOptions> o("base method's map mixed with the frozen ImageNet object prior (EZ-VSL/SLAVC test.py)");
  o.schema()
      .Component("base", ComponentKind::kMethod, "", "the audio-visual method being guided (trains as usual)")
      .Required();
  // Required: the struct's kSlavc is never used as a default (describe shows "(required)").
  o.Choice("convention", &OglOptions::convention, {{"ezvsl", Convention::kEzvsl}, {"slavc", Convention::kSlavc}},
           "ezvsl: per-sample min-max, alpha 0.4, bilinear; slavc: fixed ranges, alpha 0.9, bicubic")
      .Required();
  o.Float("alpha", &OglOptions::alpha,
          "weight of the AV map; -1 = the convention's reference value (0.4 ezvsl, 0.9 slavc)")
      .Range(-1, 1);
  o.String("base_weights", &OglOptions::base_weights,
           "avsl checkpoint of the base method alone (e.g. <run>/checkpoints/best_ap.pt of an EZ-VSL run), "
           "loaded into `base`: evaluate a trained method with OGL without retraining (train.epochs = 0)");
  o.Int("output_size", &OglOptions::output_size, "grid both maps are upsampled to before mixing (reference: 224)")
      .Range(1, 4096);
  AddPriorFields(o);
  return o;
}

Options<ObjectPriorOptions> MakeObjectPriorOptions() {
  Options<ObjectPriorOptions> o("the object prior alone: mean |layer4 activation| of a frozen ImageNet ResNet18");
  AddPriorFields(o);
  o.Choice("confidence", &ObjectPriorOptions::constant_confidence, {{"top25", false}, {"constant", true}},
           "top25: SLAVC's top-25% mean of the prior / prior_max (the reference OGL row); constant: 1");
  return o;
}

absl::StatusOr<std::shared_ptr<PriorNetwork>> LoadPrior(const PriorOptions& p, const ComponentConfig& c) {
  return PriorNetwork::Load(p.weights, c.path() + ".weights", p.prior_input_size);
}

absl::StatusOr<std::shared_ptr<Method>> MakeOgl(const Options<OglOptions>& options, const ComponentConfig& c) {
  OglOptions o = options.Read(c);
  if (o.alpha < 0 && o.alpha != -1) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(), ".alpha' = ", o.alpha,
                                                   ": expected a value in [0, 1], or -1 for the convention's own"));
  }
  if (o.alpha == -1) o.alpha = DefaultAlpha(o.convention);
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Method> base, BuildSub<Method>(c, "base"));
  if (!o.base_weights.empty()) {
    absl::Status loaded = checkpoint::LoadMethodWeights(o.base_weights, *base);
    if (!loaded.ok()) {
      return absl::Status(loaded.code(), absl::StrCat("recipe key '", c.path(), ".base_weights' = '", o.base_weights,
                                                      "': ", loaded.message()));
    }
  }
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<PriorNetwork> prior, LoadPrior(o, c));
  return std::make_shared<Ogl>(std::move(base), std::move(prior), std::move(o), c.Sub("base").type());
}

absl::StatusOr<std::shared_ptr<Method>> MakeObjectPrior(const Options<ObjectPriorOptions>& options,
                                                        const ComponentConfig& c) {
  const ObjectPriorOptions o = options.Read(c);
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<PriorNetwork> prior, LoadPrior(o, c));
  return std::make_shared<ObjectPrior>(std::move(prior), o.prior_max, o.constant_confidence);
}

}  // namespace
}  // namespace avsl::plugins::ogl

AVSL_PLUGIN("ogl", "1.0.0", "Object-guided localization: a frozen ImageNet ResNet18 object prior for any method") {
  const auto ogl = avsl::plugins::ogl::MakeOglOptions();
  registrar.Register<avsl::Method>(
      "OGL", ogl.schema(), [ogl](const avsl::ComponentConfig& c) { return avsl::plugins::ogl::MakeOgl(ogl, c); },
      "any method + the frozen ImageNet object prior (EZ-VSL or SLAVC mixing)");

  const auto prior = avsl::plugins::ogl::MakeObjectPriorOptions();
  registrar.Register<avsl::Method>(
      "ObjectPrior", prior.schema(),
      [prior](const avsl::ComponentConfig& c) { return avsl::plugins::ogl::MakeObjectPrior(prior, c); },
      "object prior alone (no audio): the OGL reference method");
}
