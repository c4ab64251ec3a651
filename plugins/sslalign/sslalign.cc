// sslalign: cross-modal alignment with multiple positives (Senocak, Ryu, Kim, Oh, Pfister, Chung, "Sound Source
// Localization is All about Cross-Modal Alignment", ICCV 2023; TPAMI 2025 "Toward Interactive Sound Source
// Localization"). The authors released inference code only (kaistmm/SSLalignment @e7ae3c5): the network and the map
// follow it (LVS's AVENet, the SDK's LVS parts: no projection heads, the cosine map of the L2-normalized image map and
// the max-pooled audio), the training is this plugin's reading of the paper (alignment_loss.h; README.md separates
// the two). A step embeds the batch and, for the augmentation positives, a second view of it (the SDK's MoCo-v2
// appearance augmentation and a masked spectrogram); the nearest-neighbour positives come from a feature bank of the
// previous epoch's embeddings (neighbour_bank.h), refreshed at every epoch's end (Method::OnTrainEvent).
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alignment_loss.h"
#include "audio_view.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "avsl/core/train_event.h"
#include "avsl/models/appearance_augment.h"
#include "avsl/models/lvs_loss.h"
#include "avsl/models/lvs_method_parts.h"
#include "neighbour_bank.h"

namespace avsl::plugins::sslalign {
namespace {

struct SslAlignOptions : models::LvsLossOptions, models::AppearanceOptions {
  std::string confidence = "generic";
  double alignment_weight = 1.0;
  double alignment_temperature = 0.07;
  bool augmentation_positives = true;
  bool neighbour_positives = true;
  int64_t neighbours = 10;
  double time_mask = 0.2;
  double freq_mask = 0.2;
};

class SslAlign final : public Method {
 public:
  SslAlign(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder, SslAlignOptions options)
      : options_(std::move(options)) {
    // AVENet's attribute names, as test.py loads the released 'ours' checkpoints (model_lvs.py).
    imgnet_ = register_module("imgnet", std::move(image_encoder));
    audnet_ = register_module("audnet", std::move(audio_encoder));
    loss_.lvs = options_;
    loss_.alignment_weight = options_.alignment_weight;
    loss_.alignment_temperature = options_.alignment_temperature;
  }

  StepOutput TrainStep(const Batch& batch) override {
    AlignmentInputs in;
    const models::LvsEmbedding e1 = Embed(batch, in);
    if (options_.augmentation_positives) {
      Batch view2 = batch;
      view2.image = models::AugmentAppearance(batch.image, options_);
      view2.audio = MaskSpectrogram(batch.audio, options_.time_mask, options_.freq_mask);
      Embed(view2, in);
    }
    int64_t neighbour_rows = 0;
    double same_class = -1;
    const bool keyed = static_cast<int64_t>(batch.keys.size()) == batch.image.size(0);
    if (options_.neighbour_positives && keyed) {
      NeighbourBank::Draw d;
      if (bank_.DrawNeighbours(batch.keys, in.images[0], e1.audio, options_.neighbours, &d)) {
        neighbour_rows = batch.image.size(0);
        same_class = SameClassFraction(batch, d);
        in.neighbour_image = std::move(d.image);
        in.neighbour_audio = std::move(d.audio);
      }
      bank_.Record(batch.keys, in.images[0], e1.audio, batch.class_id);
    }
    const AlignmentLossTerms t = AlignmentLoss(in, loss_);
    StepOutput out{t.total,
                   {{"loss_localization", t.localization.item<double>()},
                    {"loss_alignment", t.alignment.item<double>()},
                    {"positive_cos", t.positive.detach().mean().item<double>()},
                    {"neighbour_rows", static_cast<double>(neighbour_rows)},
                    {"bank_size", static_cast<double>(bank_.size())}},
                   {}};
    if (same_class >= 0) out.logs.emplace_back("neighbour_same_class", same_class);
    return out;
  }

  void OnTrainEvent(const TrainEvent& event) override {
    if (event.type == TrainEvent::Type::kEpochEnd && options_.neighbour_positives) bank_.Refresh(event.ranks);
  }

  Localization Localize(const Batch& batch) override {  // test.py's heatmap for 'ours'
    return models::LvsLocalize(*imgnet_, *audnet_, batch, "sslalign.SSLAlign", options_.confidence, options_);
  }

 private:
  // The fraction of drawn neighbours of the sample's own class, over the rows where both classes are known (the
  // synthetic benchmark's sounding class; VGG-Sound's label); -1 when none is.
  static double SameClassFraction(const Batch& batch, const NeighbourBank::Draw& d) {
    if (!batch.class_id.defined()) return -1;
    const torch::Tensor own = batch.class_id.to(torch::kCPU);
    const torch::Tensor known = (own >= 0) & (d.classes >= 0);
    if (!known.any().item<bool>()) return -1;
    return (own == d.classes).masked_select(known).to(torch::kDouble).mean().item<double>();
  }

  // Adds one image view and one audio view of `batch` to `in`: the normalized maps, the global image embedding
  // (L2-normalized average of the raw map) and the audio embedding.
  models::LvsEmbedding Embed(const Batch& batch, AlignmentInputs& in) {
    namespace F = torch::nn::functional;
    models::LvsEmbedding e = models::LvsEmbed(*imgnet_, *audnet_, batch, "sslalign.SSLAlign");
    in.image_maps.push_back(e.image);
    // In float32 at least, as every contrastive logit of the SDK (bf16's 8-bit mantissa under autocast).
    const torch::Tensor map = e.image_map.scalar_type() == torch::kDouble ? e.image_map : e.image_map.to(torch::kFloat);
    in.images.push_back(F::normalize(map.mean({2, 3}), F::NormalizeFuncOptions().dim(1)));
    in.audios.push_back(e.audio);
    return e;
  }

  SslAlignOptions options_;
  AlignmentLossOptions loss_;
  NeighbourBank bank_;
  std::shared_ptr<Encoder> imgnet_, audnet_;
};

Options<SslAlignOptions> SslAlignSchema() {
  Options<SslAlignOptions> o(
      "Cross-modal alignment with multiple positives (Senocak et al., ICCV 2023): network and map as kaistmm/"
      "SSLalignment @e7ae3c5 (LVS's AVENet); training reconstructed from the paper (README.md)");
  models::AddAvenetOptions(o, "the localization pairs: model_lvs.py's constants");
  o.Float("alignment_weight", &SslAlignOptions::alignment_weight,
          "weight of the instance-level alignment term (chosen: 1; the paper's value is not in the released code)")
      .Range(0, 1e6);
  o.Float("alignment_temperature", &SslAlignOptions::alignment_temperature,
          "temperature of the alignment InfoNCE over global image and audio embeddings (chosen: 0.07, LVS's)")
      .Range(1e-4, 10);
  o.Bool("augmentation_positives", &SslAlignOptions::augmentation_positives,
         "a second, augmented image and audio view per sample; every (image view, audio view) pair is a positive");
  o.Bool("neighbour_positives", &SslAlignOptions::neighbour_positives,
         "positives from each sample's nearest neighbours in the previous epoch's feature bank (from epoch 2)");
  o.Int("neighbours", &SslAlignOptions::neighbours,
        "k: a sample's positive is drawn uniformly from the k bank entries nearest to its current embeddings "
        "(image + audio cosine)")
      .Range(1, 1000);
  o.Float("time_mask", &SslAlignOptions::time_mask,
          "augmented audio view: widest masked time span, as a fraction of the frames")
      .Range(0, 1);
  o.Float("freq_mask", &SslAlignOptions::freq_mask,
          "augmented audio view: widest masked frequency band, as a fraction of the bins")
      .Range(0, 1);
  models::AddAppearanceOptions(o, "the augmented image view");
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeSslAlign(const Options<SslAlignOptions>& options,
                                                     const ComponentConfig& c) {
  const SslAlignOptions opt = options.Read(c);
  AVSL_RETURN_IF_ERROR(models::CheckAppearanceOptions(opt, c));
  AVSL_ASSIGN_OR_RETURN(models::AvenetEncoders encoders, models::BuildAvenetEncoders(opt, c));
  return std::make_shared<SslAlign>(std::move(encoders.image), std::move(encoders.audio), opt);
}

}  // namespace
}  // namespace avsl::plugins::sslalign

AVSL_PLUGIN("sslalign", "1.0.0",
            "Cross-modal alignment with multiple positives: augmentation and nearest-neighbour positives (ICCV 2023)") {
  const auto options = avsl::plugins::sslalign::SslAlignSchema();
  registrar.Register<avsl::Method>(
      "SSLAlign", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::sslalign::MakeSslAlign(options, c); },
      "LVS localization loss + instance-level alignment, positives from augmentations and a feature bank");
}
