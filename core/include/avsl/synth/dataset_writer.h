// Writes the synthetic benchmark to disk in both the Flickr-SoundNet and the VGG-SS layouts at once.
//
// Both layouts share frames/ and audio/ (the reference loaders only need <root>/frames/<id>.jpg and
// <root>/audio/<id>.wav); the Flickr annotations are Annotations/<id>.xml, the VGG-SS ones
// metadata/vggss.json, and every split list exists under its Flickr and its VGG-SS name in metadata/.
// Scene (split, index) on disk is SceneGenerator::Generate(seed, split, epoch 0, index).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "avsl/synth/class_catalogue.h"
#include "avsl/synth/scene_generator.h"

namespace avsl {
namespace synth {

/// Everything that defines a written synthetic dataset.
struct SynthOptions {
  uint64_t seed = 0;
  int num_train = 2000;
  int num_val = 250;
  int num_test = 250;
  /// Extended-test negatives; negative i pairs test image i with a clip of a class absent from it, so at
  /// most num_test.
  int num_negatives = 250;
  double supervised_fraction = 0.25;  ///< fraction of train ids listed (and annotated) as supervised.
  int jpeg_quality = 90;
  CatalogueOptions catalogue;
  SceneOptions scene;
};

/// ≈2k train / 250 val / 250 test / 250 negatives, 64x64 frames, 0.5 s at 16 kHz, no audio distractor.
SynthOptions QuickPreset();
/// 10k train / 1000 val / 1000 test / 1000 negatives, 96x96 frames, 1 s at 16 kHz, 20 % off-screen distractors.
SynthOptions StandardPreset();
/// 640 train / 32 val / 32 test / 32 negatives at the size of real Flickr-SoundNet files: 480x360 JPEG frames
/// (quality 90) and 10 s clips at 16 kHz. For timing input pipelines (scripts/bench_vs_reference.sh).
SynthOptions BenchPreset();
/// "quick", "standard" or "bench"; the error lists the known names.
absl::StatusOr<SynthOptions> PresetByName(absl::string_view name);

/// Checks the options (counts, fractions, quality, scene and catalogue options).
absl::Status ValidateSynthOptions(const SynthOptions& options);

/// File id of scene `index` of `split`: "train_000042", "val_000042", "test_000042".
std::string SampleId(Split split, uint64_t index);
/// Audio id of extended-test negative `index`: "neg_000042" (audio/neg_000042.wav; it has no frame).
std::string NegativeAudioId(uint64_t index);
/// Train indices in the supervised subset: round(fraction * num_train) of them, chosen by a seeded hash,
/// ascending.
std::vector<uint64_t> SupervisedIndices(const SynthOptions& options);

/// Writes the dataset under `out_dir` (created if needed; existing files of the same names are replaced).
/// The output is byte-identical for identical options. Files:
///   frames/<id>.jpg, audio/<id>.wav (PCM16 mono), audio/neg_<i>.wav,
///   Annotations/<id>.xml for val, test and supervised train ids,
///   metadata/flickr_train.txt, flickr_sup_train.txt, flickr_val.csv, flickr_test.csv,
///            flickr_test_plus_silent.csv,
///            vggss_train.txt, vggss_heard.txt, vggss.json, vggss_val.csv, vggss_test.csv,
///            vggss_heard_test.csv, vggss_unheard_test.csv, vggss_test_plus_silent.csv,
///            classes.txt, heard_classes.txt, unheard_classes.txt, synth_info.json.
absl::Status WriteSyntheticDataset(const SynthOptions& options, const std::string& out_dir);

}  // namespace synth
}  // namespace avsl
