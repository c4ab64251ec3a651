// datasets.SyntheticAV: the procedural synthetic audio-visual benchmark. Sample i of epoch e is generated on
// the fly by synth::SceneGenerator from (seed, split, e, i) and goes through the same image/spectrogram/GT
// pipeline as the file datasets, so scene i of epoch 0 equals sample i of the dataset `avsl synth` writes
// (up to the JPEG encoding of the frame).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/dataset.h"
#include "avsl/synth/scene_generator.h"
#include "pipeline.h"

namespace avsl::plugins::datasets {

enum class SyntheticSplit { kTrain, kVal, kTest, kTestPlusSilent, kInteractive };

struct SyntheticAvOptions {
  uint64_t seed = 0;  ///< scene seed (the `--seed` of `avsl synth`)
  SyntheticSplit split = SyntheticSplit::kTrain;
  size_t size = 2000;                 ///< scenes (positives)
  size_t negatives = 0;               ///< test_plus_silent: extended negatives appended after the positives
  bool fresh_scenes = true;           ///< train: scenes of epoch e (else always epoch 0, a fixed set)
  double supervised_fraction = 0.25;  ///< train: fraction of indices whose GT is provided (has_gt)
  bool annotator_gt = false;          ///< GT from the Flickr-style annotator boxes instead of the exact box
  /// Evaluation splits: after everything else, scene j's frame once per kind with its sound replaced ("silence",
  /// "noise", "offscreen": the sound of a class absent from the frame, GenerateNegative's).
  std::vector<std::string> negative_audio;
  PipelineOptions pipeline;
};

class SyntheticAvDataset final : public Dataset {
 public:
  SyntheticAvDataset(synth::SceneGenerator generator, SyntheticAvOptions options);

  size_t size() const override {
    if (options_.split == SyntheticSplit::kInteractive) return 2 * options_.size;  // two queries per scene
    return options_.size + options_.negatives + options_.negative_audio.size() * options_.size;
  }
  absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const override;
  std::string Describe(size_t index) const override;

 private:
  synth::Split SceneSplit() const;
  /// Index past the split's own samples: a frame with its sound replaced.
  absl::StatusOr<Sample> GetNegativeAudio(size_t index, const SampleContext& context) const;
  /// Split interactive: scene index/2 heard with the sound of its object index%2.
  absl::StatusOr<Sample> GetInteractive(size_t index, const SampleContext& context) const;
  static std::vector<double> WavSamples(const synth::Scene& scene);
  Map2D FullFrameGt(const synth::Scene& scene, const std::string& id) const;

  synth::SceneGenerator generator_;
  SyntheticAvOptions options_;
  std::vector<bool> supervised_;  ///< train: per index; the same indices as flickr_sup_train.txt on disk
};

}  // namespace avsl::plugins::datasets
