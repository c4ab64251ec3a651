// datasets.Pairs: explicit (image, audio) file pairs with no dataset layout and no ground truth, through the same
// test pipeline as the file datasets (squash to input_size, the centred clip_seconds window, the log spectrogram).
// `avsl infer` builds one from the recipe's test-set options, so a user's own frame and WAV are prepared exactly as
// `avsl eval` prepares a dataset's.
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/status_macros.h"
#include "components.h"
#include "pipeline.h"

namespace avsl::plugins::datasets {
namespace {

constexpr const char* kComponent = "datasets.Pairs";

struct Pair {
  std::string key, image, audio;
};

class PairsDataset final : public Dataset {
 public:
  PairsDataset(std::vector<Pair> pairs, PipelineOptions pipeline, data::ClipOptions clip)
      : pairs_(std::move(pairs)), pipeline_(pipeline), clip_(clip) {}

  size_t size() const override { return pairs_.size(); }

  absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const override {
    if (index >= pairs_.size()) {
      return absl::OutOfRangeError(absl::StrCat(kComponent, ": index ", index, " >= size ", pairs_.size()));
    }
    const Pair& p = pairs_[index];
    Sample s;
    s.key = s.video_id = p.key;
    s.audio_id = std::filesystem::path(p.audio).stem().string();
    s.sounding = false;  // unknown: no ground truth, so nothing is scored as a localization
    AVSL_ASSIGN_OR_RETURN(TransformedImage image, LoadImageFile(p.image, pipeline_, /*augment=*/false, context, index));
    s.image = std::move(image.tensor);
    AVSL_ASSIGN_OR_RETURN(s.audio, LoadAudioFileFeatures(p.audio, clip_, pipeline_));
    return s;
  }

  std::string Describe(size_t index) const override {
    if (index >= pairs_.size()) return absl::StrCat(kComponent, " index ", index);
    return absl::StrCat(pairs_[index].image, " + ", pairs_[index].audio);
  }

 private:
  std::vector<Pair> pairs_;
  PipelineOptions pipeline_;
  data::ClipOptions clip_;
};

absl::StatusOr<std::shared_ptr<Dataset>> MakePairs(const ComponentConfig& c) {
  AVSL_ASSIGN_OR_RETURN(PipelineOptions pipeline, ReadPipelineOptions(c));
  const std::vector<std::string> images = c.GetStringArray("images");
  const std::vector<std::string> audios = c.GetStringArray("audios");
  if (images.empty() || images.size() != audios.size()) {
    return absl::InvalidArgumentError(absl::StrCat(kComponent, " ", c.path(), ": images has ", images.size(),
                                                   " files and audios ", audios.size(),
                                                   "; expected the same number, at least one"));
  }
  const std::vector<std::string> keys = c.GetStringArray("keys");
  if (!keys.empty() && keys.size() != images.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kComponent, " ", c.path(), ": keys has ", keys.size(), " names for ", images.size(), " pairs"));
  }
  std::vector<Pair> pairs;
  std::set<std::string> used;
  for (size_t i = 0; i < images.size(); ++i) {
    for (const std::string* f : {&images[i], &audios[i]}) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(*f, ec)) {
        return absl::NotFoundError(absl::StrCat(kComponent, " ", c.path(), ": ", *f, ": file not found"));
      }
    }
    // The key names the outputs (<key>.npy, ...): given, or the image's stem made unique in list order (stem,
    // stem_1, ... skipping names already taken, so cat.jpg, cat_1.jpg, cat.jpg give cat, cat_1, cat_2).
    std::string key = keys.empty() ? std::filesystem::path(images[i]).stem().string() : keys[i];
    if (!keys.empty() && used.count(key) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(kComponent, " ", c.path(), ": key '", key, "' is given twice"));
    }
    const std::string stem = key;
    for (int n = 1; used.count(key) != 0; ++n) key = absl::StrCat(stem, "_", n);
    used.insert(key);
    pairs.push_back(Pair{key, images[i], audios[i]});
  }
  return std::shared_ptr<Dataset>(std::make_shared<PairsDataset>(std::move(pairs), pipeline, ReadAudioFileOptions(c)));
}

}  // namespace

void RegisterPairs(Registrar& registrar) {
  Schema s("Explicit image/audio file pairs, no layout and no ground truth (avsl infer's input)");
  s.StringArray("images", {}, "image files (JPEG or PNG), one per pair");
  s.StringArray("audios", {}, "WAV files (any rate and channel count), one per pair, in the order of images");
  s.StringArray("keys", {},
                "sample keys, one per pair (unique); default: each image's stem, made unique in list order");
  AddAudioFileFields(s);
  AddPipelineFields(s, 224);
  registrar.Register<Dataset>("Pairs", std::move(s), MakePairs,
                              "explicit image + audio file pairs through the test pipeline (no GT)");
}

}  // namespace avsl::plugins::datasets
