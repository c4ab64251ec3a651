// The sample pipeline shared by every dataset component of the plugin: image transform (train or test),
// log spectrogram, and ground truth carried through the image geometry. One implementation, so that a
// file-backed sample and a procedural one of the same scene go through exactly the same steps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/dataset.h"
#include "avsl/core/map2d.h"
#include "avsl/core/schema.h"
#include "avsl/data/audio_clip.h"
#include "avsl/data/image_transform.h"
#include "avsl/data/spectrogram.h"

namespace avsl::plugins::datasets {

/// Image and spectrogram options common to all datasets (the recipe keys of AddPipelineFields).
struct PipelineOptions {
  int input_size = 224;  ///< side of the square model input (train crop and test squash)
  int resize = 0;        ///< train: short side before the random crop; 0 = int(1.1 * input_size) (246 for 224)
  double flip = 0.5;     ///< train: horizontal-flip probability
  int gt_size = 224;     ///< side of the GT map (the evaluation frame)
  int nperseg = 512;
  int noverlap = 274;

  int train_resize() const;  ///< `resize`, or its automatic value
};

/// Adds input_size (with `default_input_size`), resize, flip, gt_size, nperseg, noverlap to `schema`.
void AddPipelineFields(Schema& schema, int default_input_size);
/// Reads those keys; InvalidArgument naming the key (`config.path()`) when they are inconsistent
/// (noverlap >= nperseg, an odd nperseg, resize < input_size).
absl::StatusOr<PipelineOptions> ReadPipelineOptions(const ComponentConfig& config);

/// Seed of the augmentation generator of sample `index`: a hash of (seed, epoch, index), so augmentation
/// never depends on which thread or in which order samples are computed.
uint64_t AugmentationSeed(const SampleContext& context, size_t index);

/// The transformed image and the geometry that produced it (to carry the GT along).
struct TransformedImage {
  data::ImageTensor tensor;
  data::ImageGeometry geometry;
};

/// Train transform (random resized crop + flip, from AugmentationSeed) when `augment`, else the test
/// transform (squash to input_size). `name` (the file) is prefixed to errors.
absl::StatusOr<TransformedImage> TransformImage(const data::RgbImage& image, const PipelineOptions& options,
                                                bool augment, const SampleContext& context, size_t index,
                                                const std::string& name);

/// A GT map covering the whole source frame (any resolution) in the input's view, gt_size x gt_size.
/// Test geometry: the frame is squashed, so the map is only resampled (nearest) if its size differs.
/// Train geometry: the map is cropped/flipped like the image (TransformMap), then resampled to gt_size.
Map2D GtInInputView(const Map2D& full_frame_gt, const data::ImageGeometry& geometry, bool augmented, int gt_size);

/// The audio-window keys of the file-backed datasets (clip_seconds, sample_rate), and their values.
void AddAudioFileFields(Schema& schema);
data::ClipOptions ReadAudioFileOptions(const ComponentConfig& config);

/// A frame file decoded and transformed (train or test, as TransformImage): what every file dataset does with it.
absl::StatusOr<TransformedImage> LoadImageFile(const std::string& path, const PipelineOptions& options, bool augment,
                                               const SampleContext& context, size_t index);

/// The `clip` window of an audio file as the model's log spectrogram (LoadAudioClip, then AudioFeatures).
absl::StatusOr<data::Spectrogram> LoadAudioFileFeatures(const std::string& path, const data::ClipOptions& clip,
                                                        const PipelineOptions& options);

/// Log spectrogram of mono samples; errors (e.g. a clip shorter than nperseg) are prefixed with `name`.
absl::StatusOr<data::Spectrogram> AudioFeatures(const std::vector<double>& samples, int sample_rate,
                                                const PipelineOptions& options, const std::string& name);

/// A CV_8UC3 BGR image (the synthetic generator's output) as RGB, as DecodeImageFile would return it.
data::RgbImage RgbFromBgr(const cv::Mat& bgr);

/// `path` if absolute, else `root`/`path` (recipe paths of a dataset are relative to its root).
std::string ResolvePath(const std::string& root, const std::string& path);

/// `status` (not OK) with `prefix` put before its message, so an error from a reader names the component,
/// key or file that led to it; the code is kept.
absl::Status Prefixed(const absl::Status& status, const std::string& prefix);

}  // namespace avsl::plugins::datasets
