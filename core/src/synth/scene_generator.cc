#include "avsl/synth/scene_generator.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "avsl/core/counter_rng.h"
#include "avsl/synth/scene_render.h"

namespace avsl {
namespace synth {
namespace {

// Independent random streams of one sample. Keeping concerns apart means e.g. the audio of a scene does
// not change when the clutter options change.
enum Stream : uint64_t {
  kLayoutStream = 1,
  kBackgroundStream = 2,
  kObjectStream = 3,
  kPixelNoiseStream = 4,
  kAudioStream = 5,
  kAnnotatorStream = 6,
  kNegativeStream = 7,
  kInteractiveAudioStream = 8,  // + query
};

// Bucket edges as side fractions of the 224 frame: 32/224, 96/224, 144/224.
constexpr double kBucketEdges[kNumSizeBuckets + 1] = {0.0, 32.0 / 224.0, 96.0 / 224.0, 144.0 / 224.0, 1.0};

absl::Status RangeError(const std::string& key, double got, const std::string& expected) {
  return absl::InvalidArgumentError(absl::StrCat("synth option ", key, ": got ", got, ", expected ", expected));
}

int64_t Overlap(const Box& a, const Box& b) {
  const int64_t w = std::max(0, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const int64_t h = std::max(0, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  return w * h;
}

// Draws one object box: bucket by weight, side uniform in bucket ∩ [min, max], aspect, then a uniform
// top-left corner so that the box lies inside the image (no centre bias).
Box SampleBox(const SceneOptions& o, CounterRng& rng) {
  std::array<double, kNumSizeBuckets> lo{}, hi{}, weight{};
  double total = 0.0;
  for (int b = 0; b < kNumSizeBuckets; ++b) {
    lo[b] = std::max(kBucketEdges[b], o.min_side_frac);
    hi[b] = std::min(kBucketEdges[b + 1], o.max_side_frac);
    weight[b] = hi[b] > lo[b] ? o.bucket_weights[b] : 0.0;
    total += weight[b];
  }
  double pick = rng.Uniform() * total;
  int bucket = kNumSizeBuckets - 1;
  for (int b = 0; b < kNumSizeBuckets; ++b) {
    if (weight[b] <= 0.0) continue;
    bucket = b;
    if (pick < weight[b]) break;
    pick -= weight[b];
  }
  const double side = rng.Uniform(lo[bucket], hi[bucket]);
  const double aspect = rng.Uniform(1.0 / o.max_aspect, o.max_aspect);
  const double ra = std::sqrt(aspect);
  const int bw = std::min(o.image_width, std::max(2, static_cast<int>(std::floor(side * ra * o.image_width + 0.5))));
  const int bh = std::min(o.image_height, std::max(2, static_cast<int>(std::floor(side / ra * o.image_height + 0.5))));
  Box box;
  box.x0 = static_cast<int>(rng.UniformInt(static_cast<uint64_t>(o.image_width - bw) + 1));
  box.y0 = static_cast<int>(rng.UniformInt(static_cast<uint64_t>(o.image_height - bh) + 1));
  box.x1 = box.x0 + bw;
  box.y1 = box.y0 + bh;
  return box;
}

// Picks one id from `pool` that is not in `used`, or -1 when none is left.
int PickExcluding(const std::vector<int>& pool, const std::vector<int>& used, CounterRng& rng) {
  std::vector<int> left;
  for (int id : pool) {
    if (std::find(used.begin(), used.end(), id) == used.end()) left.push_back(id);
  }
  if (left.empty()) return -1;
  return left[rng.UniformInt(left.size())];
}

std::vector<int> AllIds(int k) {
  std::vector<int> ids(static_cast<size_t>(k));
  for (int i = 0; i < k; ++i) ids[static_cast<size_t>(i)] = i;
  return ids;
}

}  // namespace

double Area224(const Box& box, int image_width, int image_height) {
  return (box.width() * 224.0 / image_width) * (box.height() * 224.0 / image_height);
}

bool Scene::HasClass(int class_id) const {
  for (const SceneObject& o : objects) {
    if (o.class_id == class_id) return true;
  }
  return false;
}

absl::Status ValidateSceneOptions(const SceneOptions& o, int num_classes) {
  if (o.image_width < 16 || o.image_width > 4096) return RangeError("image_width", o.image_width, "[16, 4096]");
  if (o.image_height < 16 || o.image_height > 4096) return RangeError("image_height", o.image_height, "[16, 4096]");
  if (o.min_objects < 1) return RangeError("min_objects", o.min_objects, ">= 1");
  if (o.max_objects < o.min_objects) return RangeError("max_objects", o.max_objects, ">= min_objects");
  // A negative needs a class absent from the image, so K must exceed the number of objects.
  if (o.max_objects >= num_classes) {
    return RangeError("max_objects", o.max_objects, absl::StrCat("< num_classes (", num_classes, ")"));
  }
  if (!(o.min_side_frac > 0.0)) return RangeError("min_side_frac", o.min_side_frac, "> 0");
  if (!(o.max_side_frac > o.min_side_frac && o.max_side_frac <= 1.0)) {
    return RangeError("max_side_frac", o.max_side_frac, "in (min_side_frac, 1]");
  }
  double usable = 0.0;
  for (int b = 0; b < kNumSizeBuckets; ++b) {
    if (!(o.bucket_weights[b] >= 0.0)) {
      return RangeError(absl::StrCat("bucket_weights[", b, "]"), o.bucket_weights[b], ">= 0");
    }
    if (std::min(kBucketEdges[b + 1], o.max_side_frac) > std::max(kBucketEdges[b], o.min_side_frac)) {
      usable += o.bucket_weights[b];
    }
  }
  if (!(usable > 0.0)) {
    return RangeError("bucket_weights", usable, "a positive weight on a bucket inside [min_side_frac, max_side_frac]");
  }
  if (!(o.max_aspect >= 1.0 && o.max_aspect <= 4.0)) return RangeError("max_aspect", o.max_aspect, "[1, 4]");
  if (!(o.max_overlap >= 0.0 && o.max_overlap <= 1.0)) return RangeError("max_overlap", o.max_overlap, "[0, 1]");
  if (o.placement_tries < 1) return RangeError("placement_tries", o.placement_tries, ">= 1");
  if (o.max_clutter < 0 || o.max_clutter > 64) return RangeError("max_clutter", o.max_clutter, "[0, 64]");
  if (!(o.clutter_min_frac > 0.0 && o.clutter_max_frac >= o.clutter_min_frac)) {
    return RangeError("clutter_max_frac", o.clutter_max_frac, ">= clutter_min_frac > 0");
  }
  if (!(o.colour_jitter >= 0.0 && o.colour_jitter <= 0.5))
    return RangeError("colour_jitter", o.colour_jitter, "[0, 0.5]");
  if (!(o.pixel_noise_std >= 0.0 && o.pixel_noise_std <= 1.0)) {
    return RangeError("pixel_noise_std", o.pixel_noise_std, "[0, 1]");
  }
  if (o.num_annotators < 1 || o.num_annotators > 16) return RangeError("num_annotators", o.num_annotators, "[1, 16]");
  if (!(o.annotator_jitter >= 0.0 && o.annotator_jitter <= 0.5)) {
    return RangeError("annotator_jitter", o.annotator_jitter, "[0, 0.5]");
  }
  return ValidateAudioOptions(o.audio);
}

absl::StatusOr<SceneGenerator> SceneGenerator::Create(const SceneOptions& scene_options,
                                                      const CatalogueOptions& catalogue_options) {
  absl::StatusOr<ClassCatalogue> catalogue = ClassCatalogue::Create(catalogue_options);
  if (!catalogue.ok()) return catalogue.status();
  absl::Status valid = ValidateSceneOptions(scene_options, catalogue->size());
  if (!valid.ok()) return valid;
  return SceneGenerator(scene_options, *std::move(catalogue));
}

int SceneGenerator::GenerateVisual(uint64_t seed, Split split, uint64_t epoch, uint64_t index, Scene& scene) const {
  const SceneOptions& o = options_;
  const uint64_t s = static_cast<uint64_t>(split);
  CounterRng layout(CounterRng::KeyFor(seed, s, epoch, index, kLayoutStream));

  // Classes: the sounding one from its pool, the others distinct from all classes.
  const int k = catalogue_.size();
  std::vector<int> pool = o.sounding_pool == SoundingPool::kHeard     ? catalogue_.HeardIds()
                          : o.sounding_pool == SoundingPool::kUnheard ? catalogue_.UnheardIds()
                                                                      : AllIds(k);
  const int num_objects = o.min_objects +
                          static_cast<int>(layout.UniformInt(static_cast<uint64_t>(o.max_objects - o.min_objects) + 1));
  std::vector<int> classes;
  classes.push_back(pool[layout.UniformInt(pool.size())]);
  const std::vector<int> all = AllIds(k);
  while (static_cast<int>(classes.size()) < num_objects) classes.push_back(PickExcluding(all, classes, layout));

  // Boxes: the sounding object is placed first, in an empty image, so it always exists; the others are
  // rejection-sampled against the overlap limit and dropped when they do not fit.
  for (size_t i = 0; i < classes.size(); ++i) {
    for (int attempt = 0; attempt < o.placement_tries; ++attempt) {
      const Box box = SampleBox(o, layout);
      bool fits = true;
      for (const SceneObject& other : scene.objects) {
        const int64_t a = static_cast<int64_t>(box.width()) * box.height();
        const int64_t b = static_cast<int64_t>(other.box.width()) * other.box.height();
        if (Overlap(box, other.box) > o.max_overlap * std::min(a, b)) {
          fits = false;
          break;
        }
      }
      if (fits) {
        scene.objects.push_back({classes[i], box, i == 0});
        break;
      }
    }
  }

  // The off-screen distractor sound (if any) is a class that is not in the image.
  std::vector<int> present;
  for (const SceneObject& obj : scene.objects) present.push_back(obj.class_id);
  const bool with_distractor = layout.Bernoulli(o.audio.distractor_prob);
  const int distractor = PickExcluding(all, present, layout);

  CounterRng background(CounterRng::KeyFor(seed, s, epoch, index, kBackgroundStream));
  CounterRng object(CounterRng::KeyFor(seed, s, epoch, index, kObjectStream));
  CounterRng noise(CounterRng::KeyFor(seed, s, epoch, index, kPixelNoiseStream));
  scene.image = RenderSceneImage(scene.objects, catalogue_, o, background, object, noise);

  // Annotators: each edge of the 256-px box jittered independently, clamped to the frame, kept non-empty.
  const SceneObject& sounding = scene.objects.front();
  scene.sounding_class = sounding.class_id;
  scene.gt_boxes.push_back(sounding.box);
  CounterRng annot(CounterRng::KeyFor(seed, s, epoch, index, kAnnotatorStream));
  const double sx = 256.0 / o.image_width, sy = 256.0 / o.image_height;
  const Box& b = sounding.box;
  const double jx = o.annotator_jitter * b.width() * sx, jy = o.annotator_jitter * b.height() * sy;
  for (int a = 0; a < o.num_annotators; ++a) {
    auto edge = [&](double v, double jitter) {
      return std::min(256, std::max(0, static_cast<int>(std::floor(v + jitter * annot.Normal() + 0.5))));
    };
    int x0 = edge(b.x0 * sx, jx), y0 = edge(b.y0 * sy, jy);
    int x1 = edge(b.x1 * sx, jx), y1 = edge(b.y1 * sy, jy);
    if (x1 <= x0) x1 = std::min(256, x0 + 1), x0 = x1 - 1;
    if (y1 <= y0) y1 = std::min(256, y0 + 1), y0 = y1 - 1;
    scene.annotator_boxes_256.push_back({x0, y0, x1, y1});
  }
  return with_distractor ? distractor : -1;
}

Scene SceneGenerator::Generate(uint64_t seed, Split split, uint64_t epoch, uint64_t index) const {
  Scene scene;
  const int distractor = GenerateVisual(seed, split, epoch, index, scene);
  CounterRng audio(CounterRng::KeyFor(seed, static_cast<uint64_t>(split), epoch, index, kAudioStream));
  scene.audio = SynthesizeClip(catalogue_, scene.sounding_class, distractor, options_.audio, audio);
  return scene;
}

Scene SceneGenerator::GenerateNegative(uint64_t seed, Split split, uint64_t epoch, uint64_t index) const {
  Scene scene;
  GenerateVisual(seed, split, epoch, index, scene);
  CounterRng rng(CounterRng::KeyFor(seed, static_cast<uint64_t>(split), epoch, index, kNegativeStream));
  std::vector<int> present;
  for (const SceneObject& obj : scene.objects) present.push_back(obj.class_id);
  const std::vector<int> all = AllIds(catalogue_.size());
  const int sound_class = PickExcluding(all, present, rng);  // exists: max_objects < K is validated
  present.push_back(sound_class);
  const int distractor = PickExcluding(all, present, rng);
  const bool with_distractor = rng.Bernoulli(options_.audio.distractor_prob);
  scene.audio = SynthesizeClip(catalogue_, sound_class, with_distractor ? distractor : -1, options_.audio, rng);
  scene.is_sounding = false;
  scene.sounding_class = -1;
  scene.gt_boxes.clear();
  scene.annotator_boxes_256.clear();
  for (SceneObject& obj : scene.objects) obj.sounding = false;
  return scene;
}

Scene SceneGenerator::GenerateInteractive(uint64_t seed, uint64_t index, int query) const {
  SceneGenerator two = *this;
  two.options_.min_objects = std::max(2, options_.min_objects);
  two.options_.max_objects = std::max(two.options_.min_objects, options_.max_objects);
  Scene scene;
  uint64_t layout = 0;
  int distractor = -1;
  // Two objects fit almost always (the second is rejection-sampled against the first only); 1000 layouts is a guard.
  for (; layout < 1000; ++layout) {
    scene = Scene();
    distractor = two.GenerateVisual(seed, Split::kInteractive, layout, index, scene);
    if (scene.objects.size() >= 2) break;
  }
  const size_t q = static_cast<size_t>(std::clamp(query, 0, static_cast<int>(scene.objects.size()) - 1));
  for (size_t i = 0; i < scene.objects.size(); ++i) scene.objects[i].sounding = i == q;
  scene.sounding_class = scene.objects[q].class_id;
  scene.gt_boxes = {scene.objects[q].box};
  scene.annotator_boxes_256.clear();
  CounterRng audio(
      CounterRng::KeyFor(seed, static_cast<uint64_t>(Split::kInteractive), layout, index, kInteractiveAudioStream + q));
  scene.audio = SynthesizeClip(catalogue_, scene.sounding_class, distractor, options_.audio, audio);
  return scene;
}

}  // namespace synth
}  // namespace avsl
