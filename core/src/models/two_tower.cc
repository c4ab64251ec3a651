#include "avsl/models/two_tower.h"

#include "avsl/core/rank_group.h"
#include "avsl/models/model_ops.h"
#include "avsl/models/objectives.h"

namespace avsl::models {

namespace F = torch::nn::functional;

TwoTowerLocalizer::TwoTowerLocalizer(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder,
                                     const TwoTowerOptions& options, std::string type_name)
    : tau_(options.tau),
      dropout_img_(options.dropout_img),
      dropout_aud_(options.dropout_aud),
      type_name_(std::move(type_name)) {
  // Registration order and names are EZ-VSL's: state_dicts and the random draws below match it.
  image_encoder_ = register_module("image_encoder", std::move(image_encoder));
  audio_encoder_ = register_module("audio_encoder", std::move(audio_encoder));
  img_proj_ = register_module(
      "img_proj",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(image_encoder_->out_channels(), options.dim, 1).bias(true)));
  aud_proj_ = register_module("aud_proj", torch::nn::Linear(audio_encoder_->out_channels(), options.dim));
  // EZ-VSL re-initializes its heads: trunc_normal(0, 0.01) cut at +-2 absolute is 200 sigma wide, so a plain
  // normal draw is the same distribution with the same random-number consumption.
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(img_proj_->weight, 0.0, torch::kFanOut, torch::kReLU);
  aud_proj_->weight.normal_(0.0, 0.01);
}

TwoTowerEmbedding TwoTowerLocalizer::Embed(const Batch& batch) {
  const auto unit = F::NormalizeFuncOptions().dim(1);
  torch::Tensor image = image_encoder_->Forward(batch.image);
  torch::Tensor audio = PooledAudioVector(audio_encoder_->Forward(batch.audio), type_name_);
  // Only a positive probability draws a mask: at 0 the random-number stream stays EZ-VSL's.
  if (dropout_img_ > 0) image = F::dropout(image, F::DropoutFuncOptions().p(dropout_img_).training(is_training()));
  if (dropout_aud_ > 0) audio = F::dropout(audio, F::DropoutFuncOptions().p(dropout_aud_).training(is_training()));
  TwoTowerEmbedding e;
  e.image = F::normalize(img_proj_(image), unit);
  e.audio = F::normalize(aud_proj_(audio), unit);
  return e;
}

StepOutput TwoTowerLocalizer::Objective(const TwoTowerEmbedding& e, const Batch& /*batch*/) {
  TORCH_CHECK(e.image.size(0) == e.audio.size(0), type_name_, ": ", e.image.size(0), " images vs ", e.audio.size(0),
              " audios; the positives are the diagonal");
  const GatheredRows audio = GatherNegatives(e.audio);
  if (!audio.gathered) {
    const torch::Tensor logits = MaxMilLogits(e.image, e.audio, tau_);
    return {SymmetricInfoNce(logits), CosineDiagnostics(logits, tau_), {}};
  }
  // train.global_negatives: this rank's images against every rank's audios gives this rank's rows of the
  // single-process logits; every rank's rows, gathered, give the columns of this rank's audios (the other
  // direction). N x N logits travel instead of the image maps v [N,D,h,w].
  const torch::Tensor image_logits = MaxMilLogits(e.image, audio.all, tau_);                       // [n,N]
  const GatheredRows all_logits = GatherNegatives(image_logits);                                   // [N,N]
  const torch::Tensor audio_logits = all_logits.all.narrow(1, audio.offset, e.audio.size(0)).t();  // [n,N]
  return {ShardedSymmetricInfoNce(image_logits, audio_logits, audio.offset),
          CosineDiagnostics(image_logits, tau_, audio.offset),
          {}};
}

StepOutput TwoTowerLocalizer::TrainStep(const Batch& batch) {
  const TwoTowerEmbedding e = Embed(batch);
  StepOutput out = Objective(e, batch);
  // The maps of this same forward, for extra losses (semi-supervision): no second forward moves BN statistics.
  out.maps = PairSimilarity(e.image, e.audio, tau_);
  return out;
}

Localization TwoTowerLocalizer::Localize(const Batch& batch) {
  const TwoTowerEmbedding e = Embed(batch);
  Localization out;
  out.maps = PairSimilarity(e.image, e.audio, tau_);
  // The theoretical range: the evaluator maps it to [0,1] before the generic confidence (as SLAVC's test.py
  // scores EZ-VSL); min-max localization is unaffected by this linear map.
  out.range_min = -1.0 / tau_;
  out.range_max = 1.0 / tau_;
  return out;
}

}  // namespace avsl::models
