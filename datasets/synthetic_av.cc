#include "synthetic_av.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/flickr_annotation.h"
#include "avsl/data/vggss_annotation.h"
#include "avsl/synth/annotation_format.h"
#include "avsl/synth/dataset_writer.h"
#include "components.h"
#include "file_dataset.h"
#include "negative_audio.h"

namespace avsl::plugins::datasets {
namespace {

constexpr const char* kComponent = "datasets.SyntheticAV";

const char* SplitName(SyntheticSplit s) {
  switch (s) {
    case SyntheticSplit::kTrain: return "train";
    case SyntheticSplit::kVal: return "val";
    case SyntheticSplit::kTest: return "test";
    case SyntheticSplit::kTestPlusSilent: return "test_plus_silent";
    case SyntheticSplit::kInteractive: return "interactive";
  }
  return "?";
}

}  // namespace

SyntheticAvDataset::SyntheticAvDataset(synth::SceneGenerator generator, SyntheticAvOptions options)
    : generator_(std::move(generator)), options_(std::move(options)) {
  if (options_.split == SyntheticSplit::kTrain) {
    synth::SynthOptions so;
    so.seed = options_.seed;
    so.num_train = static_cast<int>(options_.size);
    so.supervised_fraction = options_.supervised_fraction;
    supervised_.assign(options_.size, false);
    for (uint64_t i : synth::SupervisedIndices(so)) supervised_[i] = true;
  }
}

synth::Split SyntheticAvDataset::SceneSplit() const {
  switch (options_.split) {
    case SyntheticSplit::kTrain: return synth::Split::kTrain;
    case SyntheticSplit::kVal: return synth::Split::kVal;
    default: return synth::Split::kTest;
  }
}

std::string SyntheticAvDataset::Describe(size_t index) const {
  if (index >= size()) return absl::StrCat(kComponent, " index ", index, " out of range");
  if (options_.split == SyntheticSplit::kInteractive) {
    return absl::StrCat(kComponent, " seed ", options_.seed, " interactive scene ", index / 2,
                        ", the sound of its object ", index % 2);
  }
  if (index >= options_.size + options_.negatives) {
    const uint64_t r = index - options_.size - options_.negatives;
    return absl::StrCat(kComponent, " seed ", options_.seed, " frame of ",
                        synth::SampleId(SceneSplit(), r % options_.size), " + ",
                        options_.negative_audio[r / options_.size], " (negative audio)");
  }
  if (index >= options_.size) {
    const uint64_t j = index - options_.size;
    return absl::StrCat(kComponent, " seed ", options_.seed, " negative ", j, ": frame of ",
                        synth::SampleId(synth::Split::kTest, j), " + ", synth::NegativeAudioId(j));
  }
  return absl::StrCat(
      kComponent, " seed ", options_.seed, " ", SplitName(options_.split), " scene ", index,
      options_.split == SyntheticSplit::kTrain && options_.fresh_scenes ? " (of the sample's epoch)" : "");
}

Map2D SyntheticAvDataset::FullFrameGt(const synth::Scene& scene, const std::string& id) const {
  const int gt_size = options_.pipeline.gt_size;
  if (options_.annotator_gt) {
    // Through the XML writer and the reference reader, so the map is exactly the one Annotations/<id>.xml gives.
    const std::string xml = synth::FlickrAnnotationXml(id, generator_.catalogue().at(scene.sounding_class).name,
                                                       scene.annotator_boxes_256);
    data::FlickrAnnotationOptions fo;
    fo.map_size = gt_size;
    absl::StatusOr<data::FlickrAnnotation> a = data::ParseFlickrAnnotationXml(xml, id, fo);
    // The writer emits only well-formed integer boxes; a failure here is a bug in one of the two.
    if (!a.ok()) return Map2D();
    return data::FlickrGtMap(a->boxes, gt_size);
  }
  // As vggss.json stores it: edges normalized by the image size, then (clip(v,0,1)*gt_size) truncated.
  const double w = generator_.options().image_width, h = generator_.options().image_height;
  std::vector<data::VggssBox> boxes;
  for (const synth::Box& b : scene.gt_boxes) {
    data::VggssBox v;
    v.normalized = {b.x0 / w, b.y0 / h, b.x1 / w, b.y1 / h};
    v.x1 = data::VggssPixel(v.normalized[0], gt_size);
    v.y1 = data::VggssPixel(v.normalized[1], gt_size);
    v.x2 = data::VggssPixel(v.normalized[2], gt_size);
    v.y2 = data::VggssPixel(v.normalized[3], gt_size);
    boxes.push_back(v);
  }
  return data::VggssGtMap(boxes, gt_size);
}

absl::StatusOr<Sample> SyntheticAvDataset::Get(size_t index, const SampleContext& context) const {
  if (index >= size()) return absl::OutOfRangeError(absl::StrCat(kComponent, ": index ", index, " >= size ", size()));
  if (options_.split == SyntheticSplit::kInteractive) return GetInteractive(index, context);
  if (index >= options_.size + options_.negatives) return GetNegativeAudio(index, context);
  const bool negative = index >= options_.size;
  const synth::Split split = SceneSplit();
  const uint64_t scene_index = negative ? index - options_.size : index;
  // Fresh training scenes every epoch (a fixed set is memorized); evaluation splits are always epoch 0.
  const uint64_t scene_epoch = options_.split == SyntheticSplit::kTrain && options_.fresh_scenes ? context.epoch : 0;
  const synth::Scene scene = negative ? generator_.GenerateNegative(options_.seed, split, 0, scene_index)
                                      : generator_.Generate(options_.seed, split, scene_epoch, scene_index);

  Sample s;
  s.video_id = synth::SampleId(split, scene_index);
  s.audio_id = negative ? synth::NegativeAudioId(scene_index) : s.video_id;
  s.key = SampleKey(s.video_id, s.audio_id);
  s.sounding = scene.is_sounding;
  s.class_id = scene.sounding_class;

  const bool augment = options_.split == SyntheticSplit::kTrain && context.train;
  AVSL_ASSIGN_OR_RETURN(TransformedImage image, TransformImage(RgbFromBgr(scene.image), options_.pipeline, augment,
                                                               context, index, Describe(index)));
  s.image = std::move(image.tensor);

  AVSL_ASSIGN_OR_RETURN(s.audio,
                        AudioFeatures(WavSamples(scene), scene.audio.sample_rate, options_.pipeline, Describe(index)));

  const bool annotated = options_.split != SyntheticSplit::kTrain || supervised_[index];
  if (!negative && annotated) {
    const Map2D gt = FullFrameGt(scene, s.video_id);
    if (gt.size() == 0) return absl::InternalError(absl::StrCat(Describe(index), ": annotator GT did not parse"));
    s.gt_map = GtInInputView(gt, image.geometry, augment, options_.pipeline.gt_size);
    s.has_gt = true;
  }
  return s;
}

std::vector<double> SyntheticAvDataset::WavSamples(const synth::Scene& scene) {
  // The WAV loader's semantics (q / 32767), from the exact PCM16 the on-disk WAV holds.
  std::vector<double> samples(scene.audio.pcm.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    samples[k] = std::clamp(static_cast<double>(scene.audio.pcm[k]) / 32767.0, -1.0, 1.0);
  }
  return samples;
}

absl::StatusOr<Sample> SyntheticAvDataset::GetNegativeAudio(size_t index, const SampleContext& context) const {
  const uint64_t r = index - options_.size - options_.negatives;
  const std::string& kind = options_.negative_audio[r / options_.size];
  const uint64_t j = r % options_.size;
  const synth::Split split = SceneSplit();
  // GenerateNegative keeps scene j's frame and plays a class absent from it: the off-screen sound.
  const synth::Scene scene = kind == "offscreen" ? generator_.GenerateNegative(options_.seed, split, 0, j)
                                                 : generator_.Generate(options_.seed, split, 0, j);
  Sample s;
  s.video_id = synth::SampleId(split, j);
  s.audio_id = kind == "offscreen" ? synth::NegativeAudioId(j) : kind;
  s.key = NegativeAudioKey(s.video_id, kind, s.audio_id);
  s.sounding = false;
  s.negative_audio = kind;
  AVSL_ASSIGN_OR_RETURN(TransformedImage image, TransformImage(RgbFromBgr(scene.image), options_.pipeline,
                                                               /*augment=*/false, context, index, Describe(index)));
  s.image = std::move(image.tensor);
  std::vector<double> samples = WavSamples(scene);
  if (kind != "offscreen") samples = ReplacementWaveform(kind, samples.size(), NoiseSeed(s.video_id));
  AVSL_ASSIGN_OR_RETURN(s.audio, AudioFeatures(samples, scene.audio.sample_rate, options_.pipeline, Describe(index)));
  return s;
}

absl::StatusOr<Sample> SyntheticAvDataset::GetInteractive(size_t index, const SampleContext& context) const {
  const uint64_t scene_index = index / 2;
  const synth::Scene scene = generator_.GenerateInteractive(options_.seed, scene_index, static_cast<int>(index % 2));
  if (scene.objects.size() < 2) {
    return absl::InternalError(absl::StrCat(Describe(index), ": no layout of two objects fits (min_side_frac, ",
                                            "max_side_frac and max_overlap leave room for one)"));
  }
  Sample s;
  s.video_id = synth::SampleId(synth::Split::kInteractive, scene_index);
  s.audio_id = absl::StrCat(s.video_id, "_", generator_.catalogue().at(scene.sounding_class).name);
  s.key = SampleKey(s.video_id, s.audio_id);
  s.class_id = scene.sounding_class;
  AVSL_ASSIGN_OR_RETURN(TransformedImage image, TransformImage(RgbFromBgr(scene.image), options_.pipeline,
                                                               /*augment=*/false, context, index, Describe(index)));
  s.image = std::move(image.tensor);
  AVSL_ASSIGN_OR_RETURN(s.audio,
                        AudioFeatures(WavSamples(scene), scene.audio.sample_rate, options_.pipeline, Describe(index)));
  s.gt_map = GtInInputView(FullFrameGt(scene, s.video_id), image.geometry, /*augmented=*/false,
                           options_.pipeline.gt_size);
  s.has_gt = true;
  return s;
}

namespace {

absl::StatusOr<std::shared_ptr<Dataset>> MakeSyntheticAv(const ComponentConfig& c) {
  SyntheticAvOptions o;
  AVSL_ASSIGN_OR_RETURN(o.pipeline, ReadPipelineOptions(c));
  o.seed = static_cast<uint64_t>(c.GetInt("seed"));
  const std::string split = c.GetString("split");
  o.split = split == "train"         ? SyntheticSplit::kTrain
            : split == "val"         ? SyntheticSplit::kVal
            : split == "test"        ? SyntheticSplit::kTest
            : split == "interactive" ? SyntheticSplit::kInteractive
                                     : SyntheticSplit::kTestPlusSilent;
  o.size = static_cast<size_t>(c.GetInt("size"));
  if (o.split == SyntheticSplit::kTestPlusSilent) {
    const long long neg = c.GetInt("negatives");
    o.negatives = neg < 0 ? o.size : static_cast<size_t>(neg);
    // Negative j reuses test scene j's image, as on disk.
    if (o.negatives > o.size) {
      return absl::InvalidArgumentError(
          absl::StrCat("recipe key '", c.path(), ".negatives' = ", neg, ": expected at most size (", o.size, ")"));
    }
  }
  AVSL_ASSIGN_OR_RETURN(o.negative_audio, ReadNegativeAudioKinds(c, kComponent, o.split != SyntheticSplit::kTrain));
  o.fresh_scenes = c.GetBool("fresh_scenes");
  o.supervised_fraction = c.GetFloat("supervised_fraction");
  o.annotator_gt = c.GetString("gt") == "annotators";
  if (o.split == SyntheticSplit::kInteractive && (o.annotator_gt || !o.negative_audio.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        kComponent, " ", c.path(), ": split \"interactive\" scores each object's exact box (gt = \"box\") and has no ",
        "negative_audio; found ", o.annotator_gt ? "gt = \"annotators\"" : "negative_audio"));
  }

  synth::SceneOptions scene;
  scene.image_width = scene.image_height = static_cast<int>(c.GetInt("image_size"));
  scene.min_objects = static_cast<int>(c.GetInt("min_objects"));
  scene.max_objects = static_cast<int>(c.GetInt("max_objects"));
  scene.min_side_frac = c.GetFloat("min_side_frac");
  scene.max_side_frac = c.GetFloat("max_side_frac");
  scene.max_clutter = static_cast<int>(c.GetInt("max_clutter"));
  scene.pixel_noise_std = c.GetFloat("pixel_noise_std");
  scene.num_annotators = static_cast<int>(c.GetInt("num_annotators"));
  const std::string pool = c.GetString("sounding_pool");
  scene.sounding_pool = pool == "heard"     ? synth::SoundingPool::kHeard
                        : pool == "unheard" ? synth::SoundingPool::kUnheard
                                            : synth::SoundingPool::kAll;
  scene.audio.sample_rate = static_cast<int>(c.GetInt("sample_rate"));
  scene.audio.clip_seconds = c.GetFloat("clip_seconds");
  scene.audio.noise_std_min = c.GetFloat("noise_std_min");
  scene.audio.noise_std_max = c.GetFloat("noise_std_max");
  scene.audio.distractor_prob = c.GetFloat("distractor_prob");
  synth::CatalogueOptions catalogue;
  catalogue.num_classes = static_cast<int>(c.GetInt("num_classes"));
  absl::StatusOr<synth::SceneGenerator> gen = synth::SceneGenerator::Create(scene, catalogue);
  if (!gen.ok()) return Prefixed(gen.status(), absl::StrCat(kComponent, " ", c.path(), ": "));
  return std::make_shared<SyntheticAvDataset>(*std::move(gen), std::move(o));
}

}  // namespace

void RegisterSyntheticAv(Registrar& registrar) {
  Schema s("Procedural synthetic AV scenes: sample i of epoch e generated from (seed, split, e, i)");
  s.Int("seed", 0, "scene seed; equal to `avsl synth --seed` for the same scenes as the written dataset")
      .Range(0, 9.0e15);
  s.String("split", "train",
           "train (fresh scenes each epoch), val, test, test_plus_silent (test + negatives), or interactive "
           "(size scenes of two objects, each heard with either object's sound: 2 x size samples, IIoU)")
      .OneOf({"train", "val", "test", "test_plus_silent", "interactive"});
  s.Int("size", 2000, "number of scenes (positives)").Range(1, 1000000);
  s.Int("negatives", -1,
        "test_plus_silent: negatives appended (image of test scene j + an absent class's "
        "sound); -1 = size")
      .Range(-1, 1000000);
  AddNegativeAudioField(s);
  s.Bool("fresh_scenes", true, "train: new scenes every epoch; false repeats epoch 0's scenes (memorizable)");
  s.Float("supervised_fraction", 0.25, "train: fraction of indices with GT (has_gt), as flickr_sup_train.txt")
      .Range(0, 1);
  s.String("gt", "box",
           "GT map: box (the exact box, as vggss.json) or annotators (Flickr-style consensus of the "
           "jittered annotator boxes, as Annotations/<id>.xml)")
      .OneOf({"box", "annotators"});
  s.Int("num_classes", 20, "K object classes (even ids heard, odd unheard)").Range(2, 60);
  s.Int("image_size", 64, "side of the rendered frame in pixels (then transformed to input_size)").Range(16, 4096);
  s.Int("min_objects", 1, "fewest objects per image").Range(1, 59);
  s.Int("max_objects", 3, "most objects per image (< num_classes)").Range(1, 59);
  s.Float("min_side_frac", 0.10, "smallest object side / image side").Range(0.01, 1);
  s.Float("max_side_frac", 0.80, "largest object side / image side").Range(0.01, 1);
  s.Int("max_clutter", 4, "background clutter ellipses per image, at most").Range(0, 64);
  s.Float("pixel_noise_std", 0.04, "Gaussian pixel noise on [0,1] intensities").Range(0, 1);
  s.Int("num_annotators", 3, "jittered annotator boxes per scene (gt = annotators)").Range(1, 16);
  s.String("sounding_pool", "all", "classes that may sound: all, heard or unheard (open-set training)")
      .OneOf({"all", "heard", "unheard"});
  s.Int("sample_rate", 16000, "audio sample rate in Hz").Range(1000, 192000);
  s.Float("clip_seconds", 0.5, "clip length in seconds (the whole clip is the model's window)").Range(0.01, 60);
  s.Float("noise_std_min", 0.05, "white-noise std in the mix, lower bound").Range(0, 10);
  s.Float("noise_std_max", 0.3, "white-noise std in the mix, upper bound").Range(0, 10);
  s.Float("distractor_prob", 0.0, "probability of an off-screen distractor sound").Range(0, 1);
  AddPipelineFields(s, 64);
  registrar.Register<Dataset>("SyntheticAV", std::move(s), MakeSyntheticAv,
                              "procedural synthetic AV benchmark, fresh training scenes every epoch");
}

}  // namespace avsl::plugins::datasets
