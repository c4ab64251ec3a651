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

enum class SyntheticSplit { kTrain, kVal, kTest, kTestPlusSilent };

struct SyntheticAvOptions {
  uint64_t seed = 0;  ///< scene seed (the `--seed` of `avsl synth`)
  SyntheticSplit split = SyntheticSplit::kTrain;
  size_t size = 2000;                 ///< scenes (positives)
  size_t negatives = 0;               ///< test_plus_silent: extended negatives appended after the positives
  bool fresh_scenes = true;           ///< train: scenes of epoch e (else always epoch 0, a fixed set)
  double supervised_fraction = 0.25;  ///< train: fraction of indices whose GT is provided (has_gt)
  bool annotator_gt = false;          ///< GT from the Flickr-style annotator boxes instead of the exact box
  PipelineOptions pipeline;
};

class SyntheticAvDataset final : public Dataset {
 public:
  SyntheticAvDataset(synth::SceneGenerator generator, SyntheticAvOptions options);

  size_t size() const override { return options_.size + options_.negatives; }
  absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const override;
  std::string Describe(size_t index) const override;

 private:
  synth::Split SceneSplit() const;
  Map2D FullFrameGt(const synth::Scene& scene, const std::string& id) const;

  synth::SceneGenerator generator_;
  SyntheticAvOptions options_;
  std::vector<bool> supervised_;  ///< train: per index; the same indices as flickr_sup_train.txt on disk
};

}  // namespace avsl::plugins::datasets
