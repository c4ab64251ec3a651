// The SDK's sample value types: what a dataset produces and a transform edits, torch-free. The data layer
// (avsl/data) fills them; collation into tensors (avsl/core/batch.h) happens only in the trainer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "avsl/core/map2d.h"

namespace avsl {

/// A float tensor in CHW order (the model input).
struct ImageTensor {
  int channels = 3;
  int height = 0;
  int width = 0;
  std::vector<float> values;  ///< channels × height × width.
  float at(int c, int y, int x) const { return values[(static_cast<size_t>(c) * height + y) * width + x]; }
};

/// Log spectrogram of shape [1, freq_bins, frames]: frequency is the row (H), time the column (W).
struct Spectrogram {
  int freq_bins = 0;          ///< nperseg/2 + 1 (257).
  int frames = 0;             ///< floor((N − noverlap) / (nperseg − noverlap)).
  std::vector<float> values;  ///< Row-major freq_bins × frames.
  float at(int f, int t) const { return values[static_cast<size_t>(f) * frames + t]; }
};

/// Everything the model and the evaluator need about one sample.
struct Sample {
  std::string key;       ///< unique within the dataset (e.g. "<video>" or "<video>__<audio>")
  std::string video_id;  ///< frame id (and GT key)
  std::string audio_id;  ///< audio id
  ImageTensor image;     ///< CHW float, normalized
  Spectrogram audio;     ///< [1, F, T] log spectrogram
  Map2D gt_map;          ///< GT in image-input coordinates; empty (0×0) when unknown
  bool has_gt = false;   ///< gt_map is an annotation usable for supervision/evaluation
  bool sounding = true;  ///< false for extended-test negatives
  /// "" for the split's own samples. Otherwise the frame of a test positive heard with a replaced sound ("silence",
  /// "noise" or "offscreen": a dataset's negative_audio option); the evaluator scores these apart from the split
  /// (metrics.json neg_<kind>_*), so they never change the split's own metrics.
  std::string negative_audio;
  int class_id = -1;  ///< -1 when unknown
};

/// Where a sample is drawn: the loader passes it so that augmentation and procedural generation are a pure
/// function of (seed, epoch, index), whatever thread computes it.
struct SampleContext {
  uint64_t seed = 0;
  uint64_t epoch = 0;
  bool train = false;  ///< training-time augmentation on/off
};

}  // namespace avsl
