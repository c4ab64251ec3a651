// Scenes of the synthetic audio-visual benchmark: a pure function of (seed, split, epoch, index).
//
// A scene is an image with background clutter and 1-3 objects of distinct classes placed anywhere (uniform
// top-left corner, no centre bias), exactly one of which sounds, plus the clip of that class's sound mixed
// with noise. The procedural dataset (fresh scenes every epoch: a fixed small training set gets memorized, see
// docs/synthetic.md, 'Design and why') and the on-disk writer both call this generator, so the files written for
// (split, epoch 0) are exactly the procedural samples of epoch 0.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "avsl/core/eval_result.h"
#include "avsl/synth/class_catalogue.h"
#include "avsl/synth/sound_synth.h"

namespace avsl {
namespace synth {

/// Which part of the benchmark a scene belongs to; part of the random key, so splits never share scenes.
enum class Split : uint64_t {
  kTrain = 0,
  kVal = 1,
  kTest = 2,
  kInteractive = 3,  ///< scenes of two sounding objects, each queried with its own sound (GenerateInteractive)
};

/// Which classes may sound (the open-set setting trains on heard classes only).
enum class SoundingPool { kAll = 0, kHeard, kUnheard };

// Scenes are generated per size bucket with the evaluation's own buckets and rule (avsl/core/eval_result.h:
// SizeBucket, BucketForArea, BucketName), so a scene lands in the bucket it is scored in.

/// An axis-aligned box in image pixels, end-exclusive: it covers x in [x0, x1), y in [y0, y1).
struct Box {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  bool operator==(const Box& o) const { return x0 == o.x0 && y0 == o.y0 && x1 == o.x1 && y1 == o.y1; }
};

/// The box's area after squashing an image_width x image_height image to 224x224.
double Area224(const Box& box, int image_width, int image_height);

/// Parameters of scene generation (image, objects, clutter, annotators, audio).
struct SceneOptions {
  int image_width = 64;  ///< 64x64 trains a small model in minutes on 2 cores (feasibility study).
  int image_height = 64;
  int min_objects = 1;
  int max_objects = 3;
  /// Object size as sqrt(box area) / image side, bounded to [min_side_frac, max_side_frac]. A bucket is
  /// drawn with `bucket_weights` (buckets outside the range get none), then the side uniformly inside it.
  double min_side_frac = 0.10;
  double max_side_frac = 0.80;
  std::array<double, kNumSizeBuckets> bucket_weights = {0.10, 0.50, 0.30, 0.10};
  double max_aspect = 1.25;        ///< box width/height ratio uniform in [1/max_aspect, max_aspect].
  double max_overlap = 0.15;       ///< pairwise overlap at most this fraction of the smaller box.
  int placement_tries = 50;        ///< rejection-sampling tries per non-sounding object before dropping it.
  int max_clutter = 4;             ///< 0..max_clutter desaturated ellipses in the background.
  double clutter_min_frac = 0.04;  ///< clutter ellipse radii, as a fraction of the image side.
  double clutter_max_frac = 0.12;
  double colour_jitter = 0.06;     ///< per-object colour jitter, uniform per channel.
  double pixel_noise_std = 0.04;   ///< Gaussian pixel noise on [0, 1] intensities.
  int num_annotators = 3;          ///< jittered Flickr-style boxes per sounding object.
  double annotator_jitter = 0.04;  ///< std of each edge's jitter, as a fraction of the box side.
  SoundingPool sounding_pool = SoundingPool::kAll;
  AudioOptions audio;
};

/// Checks every option; messages name the option and the expected range.
absl::Status ValidateSceneOptions(const SceneOptions& options, int num_classes);

/// One object in a scene.
struct SceneObject {
  int class_id = -1;
  Box box;
  bool sounding = false;
};

/// One generated sample.
struct Scene {
  cv::Mat image;  ///< CV_8UC3, BGR, image_height x image_width.
  AudioClip audio;
  std::vector<SceneObject> objects;  ///< objects[0] is the sounding object of a positive scene.
  bool is_sounding = true;           ///< false for extended-test negatives (audio class absent from the image).
  int sounding_class = -1;           ///< class of the sounding object; -1 for negatives.
  std::vector<Box> gt_boxes;         ///< the sounding object's box; empty for negatives.
  /// Flickr-style annotator boxes (xmin, ymin, xmax, ymax) in 256x256 coordinates; empty for negatives.
  std::vector<std::array<int, 4>> annotator_boxes_256;
  /// True when `class_id` is one of the objects in the image.
  bool HasClass(int class_id) const;
};

/// Generates scenes; cheap to copy, thread-safe (all methods are const and share no mutable state).
class SceneGenerator {
 public:
  static absl::StatusOr<SceneGenerator> Create(const SceneOptions& scene_options,
                                               const CatalogueOptions& catalogue_options);

  /// Scene `index` of `epoch` of `split`.
  Scene Generate(uint64_t seed, Split split, uint64_t epoch, uint64_t index) const;

  /// The image (and objects) of Generate(seed, split, epoch, index) paired with the clip of a class that is
  /// absent from that image (label non-sounding): the extended-test negative of that scene.
  Scene GenerateNegative(uint64_t seed, Split split, uint64_t epoch, uint64_t index) const;

  /// Interactive scene `index` (Split::kInteractive, the IS3 setting of Senocak et al., TPAMI 2025): a frame with at
  /// least two objects of distinct classes, heard with the sound of objects[query] (query 0 or 1), whose box is the
  /// GT. Both queries of an index share the frame exactly. A layout whose second object does not fit is drawn again
  /// (epoch 1, 2, ... of the same index), so every index has two objects. No annotator boxes (the GT is the box).
  Scene GenerateInteractive(uint64_t seed, uint64_t index, int query) const;
  const ClassCatalogue& catalogue() const { return catalogue_; }
  const SceneOptions& options() const { return options_; }

 private:
  SceneGenerator(SceneOptions options, ClassCatalogue catalogue)
      : options_(std::move(options)), catalogue_(std::move(catalogue)) {}

  /// Layout, image and annotator boxes, but no audio; returns the off-screen distractor class (or -1).
  int GenerateVisual(uint64_t seed, Split split, uint64_t epoch, uint64_t index, Scene& scene) const;

  SceneOptions options_;
  ClassCatalogue catalogue_;
};

}  // namespace synth
}  // namespace avsl
