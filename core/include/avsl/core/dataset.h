// Dataset component: an indexable collection of audio-visual samples, torch-free. The loader turns samples
// into batches; collation into tensors happens only in the trainer.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "avsl/core/export.h"
#include "avsl/core/map2d.h"
#include "avsl/data/image_transform.h"
#include "avsl/data/spectrogram.h"

namespace avsl {

/// Everything the model and the evaluator need about one sample.
struct Sample {
  std::string key;       ///< unique within the dataset (e.g. "<video>" or "<video>__<audio>")
  std::string video_id;  ///< frame id (and GT key)
  std::string audio_id;  ///< audio id
  data::ImageTensor image;    ///< CHW float, normalized
  data::Spectrogram audio;    ///< [1, F, T] log spectrogram
  Map2D gt_map;               ///< GT in image-input coordinates; empty (0×0) when unknown
  bool has_gt = false;        ///< gt_map is an annotation usable for supervision/evaluation
  bool sounding = true;       ///< false for extended-test negatives
  int class_id = -1;          ///< -1 when unknown
};

/// Where a sample is drawn: the loader passes it so that augmentation and procedural generation are a pure
/// function of (seed, epoch, index), whatever thread computes it.
struct SampleContext {
  uint64_t seed = 0;
  uint64_t epoch = 0;
  bool train = false;  ///< training-time augmentation on/off
};

class AVSL_EXPORT Dataset {
 public:
  virtual ~Dataset();
  virtual size_t size() const = 0;
  /// Sample `index` (0 <= index < size()). Errors name the files involved and why.
  virtual absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const = 0;
  /// A short description of sample `index` (its key and files) for logs and error messages.
  virtual std::string Describe(size_t index) const = 0;
};

}  // namespace avsl
