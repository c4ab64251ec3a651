// A tiny dataset and method for trainer tests (CPU and CUDA): deterministic samples, a two-layer
// similarity model with dropout (so resuming must restore the RNG state) and an optional NaN step.
#pragma once

#include <torch/torch.h>

#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/dataset.h"
#include "avsl/core/loss.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"

namespace avsl::testing {

// Deterministic samples: everything is a function of (index, offset), so any worker computes the same. The
// `broken` indices fail to load (for data.on_error tests).
class TinyDataset final : public Dataset {
 public:
  TinyDataset(size_t size, uint64_t offset, std::set<long long> broken = {})
      : size_(size), offset_(offset), broken_(std::move(broken)) {}
  size_t size() const override { return size_; }
  std::string Describe(size_t i) const override { return "tiny sample " + std::to_string(i); }
  absl::StatusOr<Sample> Get(size_t index, const SampleContext&) const override {
    if (broken_.count(static_cast<long long>(index)) > 0) {
      return absl::DataLossError("tiny sample " + std::to_string(index) + " is broken on purpose");
    }
    std::mt19937 rng(static_cast<uint32_t>(index + offset_ * 1000));
    std::normal_distribution<float> normal;
    Sample s;
    s.key = "k" + std::to_string(offset_) + "_" + std::to_string(index);
    s.video_id = s.audio_id = s.key;
    s.image.channels = 3;
    s.image.height = s.image.width = 16;
    s.image.values.resize(3 * 16 * 16);
    for (float& v : s.image.values) v = normal(rng);
    s.audio.freq_bins = 8;
    s.audio.frames = 4;
    s.audio.values.resize(32);
    for (float& v : s.audio.values) v = normal(rng);
    s.gt_map = Map2D(224, 224);
    const int x0 = static_cast<int>(index * 37 % 150);
    for (int y = 40; y < 120; ++y)
      for (int x = x0; x < x0 + 70; ++x) s.gt_map.at(y, x) = 1.0;
    s.has_gt = true;
    s.sounding = true;
    s.class_id = static_cast<int>(index % 2);
    return s;
  }

 private:
  size_t size_;
  uint64_t offset_;
  std::set<long long> broken_;
};

// Cosine similarity between projected pixels and projected audio, with dropout (so resuming must restore
// the RNG state), an optional NaN at a given step, optional TORCH_CHECK failures ("boom" in TrainStep at a given
// step, "boom in Localize"), optional fixed maps (Localize ignores the weights: a flat validation metric), an
// optional value logged on even steps only ("even_steps") and an optional native confidence of the wrong length.
class TinyMethod final : public Method {
 public:
  explicit TinyMethod(long long nan_at_step, bool return_maps = false, long long throw_at_step = -1,
                      bool throw_in_localize = false, bool fixed_maps = false, bool sparse_log = false,
                      long long confidence_extra = -1)
      : nan_at_step_(nan_at_step),
        return_maps_(return_maps),
        throw_at_step_(throw_at_step),
        throw_in_localize_(throw_in_localize),
        fixed_maps_(fixed_maps),
        sparse_log_(sparse_log),
        confidence_extra_(confidence_extra) {
    image_ = register_module("image", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 1)));
    audio_ = register_module("audio", torch::nn::Linear(32, 4));
  }
  StepOutput TrainStep(const Batch& b) override {
    ++steps_;
    TORCH_CHECK(steps_ != throw_at_step_, "boom");
    torch::Tensor sim = Similarity(b);
    torch::Tensor logits = std::get<0>(sim.flatten(2).max(2)) / 0.1;
    torch::Tensor labels = torch::arange(logits.size(0), torch::TensorOptions(torch::kLong).device(logits.device()));
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
    if (steps_ == nan_at_step_) loss = loss * std::numeric_limits<float>::quiet_NaN();
    // A method's own scalar: the trainer must average it into the metrics.jsonl train records.
    torch::Tensor maps;
    if (return_maps_) maps = sim.diagonal(0, 0, 1).permute({2, 0, 1});
    std::vector<std::pair<std::string, double>> logs = {{"steps_seen", static_cast<double>(steps_)}};
    if (sparse_log_ && steps_ % 2 == 0) logs.emplace_back("even_steps", static_cast<double>(steps_));
    return {loss, std::move(logs), maps};
  }
  void OnTrainEvent(const TrainEvent& event) override {
    ++EventCounts()[static_cast<int>(event.type)];
    if (event.type == TrainEvent::Type::kEpochEnd) EpochEndLosses().push_back(event.loss);
  }
  /// Events seen by every TinyMethod since the last Reset, by TrainEvent::Type.
  static std::map<int, int>& EventCounts() {
    static std::map<int, int> counts;
    return counts;
  }
  /// TrainEvent::loss of every kEpochEnd seen by any TinyMethod (cleared by the tests that read it).
  static std::vector<double>& EpochEndLosses() {
    static std::vector<double> losses;
    return losses;
  }
  Localization Localize(const Batch& b) override {
    TORCH_CHECK(!throw_in_localize_, "boom in Localize");
    Localization loc;
    if (fixed_maps_) {  // a centred bump in [-1, 0], the same for every sample and every epoch
      torch::Tensor ramp = torch::linspace(-1.0, 1.0, 16, b.image.options().dtype(torch::kFloat));
      torch::Tensor bump = -(ramp.view({16, 1}).pow(2) + ramp.view({1, 16}).pow(2)) / 2;
      loc.maps = bump.unsqueeze(0).expand({b.image.size(0), 16, 16}).contiguous();
    } else {
      loc.maps = Similarity(b).diagonal(0, 0, 1).permute({2, 0, 1});
    }
    loc.range_min = -1;
    loc.range_max = 1;
    if (confidence_extra_ >= 0) {
      loc.confidence = torch::zeros({b.image.size(0) + confidence_extra_});
      loc.confidence_name = "tiny";
    }
    return loc;
  }

 private:
  torch::Tensor Similarity(const Batch& b) {
    torch::Tensor v = torch::dropout(image_(b.image), 0.2, is_training());
    v = torch::nn::functional::normalize(v, torch::nn::functional::NormalizeFuncOptions().dim(1));
    torch::Tensor a = torch::nn::functional::normalize(audio_(b.audio.flatten(1)),
                                                       torch::nn::functional::NormalizeFuncOptions().dim(1));
    return torch::einsum("ad,bdhw->abhw", {a, v});
  }
  long long nan_at_step_;
  bool return_maps_;
  long long throw_at_step_;
  bool throw_in_localize_;
  bool fixed_maps_;
  bool sparse_log_;
  long long confidence_extra_;
  long long steps_ = 0;
  torch::nn::Conv2d image_{nullptr};
  torch::nn::Linear audio_{nullptr};
};

// An extra loss on the step's maps: their mean (differentiable, so it reaches the method's parameters).
class MapMeanLoss final : public Loss {
 public:
  torch::Tensor Compute(const Batch& batch, const torch::Tensor& maps) override { return 0.1 * maps.mean(); }
};

/// Registers tiny.Method, tiny.MapMean (a loss) and tiny.Data into `host`.
inline void RegisterTinyComponents(PluginHost& host) {
  AddCoreComponents(host);  // the composition root hands in the built-ins
  Registrar r("tiny");
  Schema m("tiny method");
  m.Int("nan_at_step", -1, "make the loss NaN at this step (1-based)");
  m.Bool("return_maps", false, "return StepOutput::maps (extra losses need them)");
  m.Int("throw_at_step", -1, "TORCH_CHECK(false, \"boom\") in TrainStep at this step (1-based)");
  m.Bool("throw_in_localize", false, "TORCH_CHECK(false, \"boom in Localize\") in Localize");
  m.Bool("fixed_maps", false, "Localize returns the same map whatever the weights (a flat validation metric)");
  m.Bool("sparse_log", false, "also log \"even_steps\" (the step count), on even steps only");
  m.Int("confidence_extra", -1, "Localize gives a native confidence of batch size + this many values (-1: none)");
  r.Register<Method>(
      "Method", std::move(m),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Method>> {
        return std::make_shared<TinyMethod>(c.GetInt("nan_at_step"), c.GetBool("return_maps"),
                                            c.GetInt("throw_at_step"), c.GetBool("throw_in_localize"),
                                            c.GetBool("fixed_maps"), c.GetBool("sparse_log"),
                                            c.GetInt("confidence_extra"));
      },
      "");
  r.Register<Loss>(
      "MapMean", Schema("mean of the method's maps"),
      [](const ComponentConfig&) -> absl::StatusOr<std::shared_ptr<Loss>> { return std::make_shared<MapMeanLoss>(); },
      "");
  Schema d("tiny dataset");
  d.Int("size", 12, "samples").Min(1);
  d.Int("offset", 0, "which samples").Min(0);
  d.IntArray("broken", {}, "indices whose Get fails");
  r.Register<Dataset>(
      "Data", std::move(d),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Dataset>> {
        const std::vector<long long> broken = c.GetIntArray("broken");
        return std::make_shared<TinyDataset>(c.GetInt("size"), c.GetInt("offset"),
                                             std::set<long long>(broken.begin(), broken.end()));
      },
      "");
  ASSERT_TRUE(r.status().ok());
  ASSERT_TRUE(host.mutable_registry_for_testing().Commit(r.staged()).ok());
}

/// The recipe the trainer tests share (2 epochs of 3 steps, validation and test sets).
inline constexpr const char* kTinyRecipe = R"(
seed = 3
threads = 2
[data]
batch_size = 4
eval_batch_size = 5
workers = 2
train = { type = "tiny.Data", size = 12 }
val = { type = "tiny.Data", size = 5, offset = 1 }
test = { type = "tiny.Data", size = 6, offset = 2 }
[model]
type = "tiny.Method"
[optim]
type = "core.Adam"
lr = 0.01
[train]
epochs = 2
log_every = 1
monitor = "val.ap"
)";

}  // namespace avsl::testing
