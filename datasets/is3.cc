// datasets.IS3: the Interactive Synthetic Sound Source benchmark (Senocak et al., TPAMI 2025) as its evaluator reads
// it: one entry per (image, object) of synthetic3240_bbox.json, the frame <root>/<frames_dir>/<image's file name>,
// the sound <root>/<audio_dir>/<audio's file name>, the object's box as the GT, and the two entries of an image
// sharing a frame id so that avsl's evaluator scores IIoU over them (docs/evaluation.md §9.4).
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/is3_annotation.h"
#include "components.h"
#include "pipeline.h"

namespace avsl::plugins::datasets {
namespace {

constexpr const char* kComponent = "datasets.IS3";
namespace fs = std::filesystem;

class Is3Dataset final : public Dataset {
 public:
  Is3Dataset(std::vector<data::Is3Entry> entries, std::string frames, std::string audio, PipelineOptions pipeline,
             data::ClipOptions clip)
      : entries_(std::move(entries)),
        frames_(std::move(frames)),
        audio_(std::move(audio)),
        pipeline_(pipeline),
        clip_(clip) {}

  size_t size() const override { return entries_.size(); }

  absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const override {
    if (index >= entries_.size()) {
      return absl::OutOfRangeError(absl::StrCat(kComponent, ": index ", index, " >= size ", entries_.size()));
    }
    const data::Is3Entry& e = entries_[index];
    Sample s;
    s.key = e.name;
    s.video_id = e.frame;  // the two objects of an image: one frame, two queries
    s.audio_id = fs::path(e.audio).stem().string();
    AVSL_ASSIGN_OR_RETURN(TransformedImage image,
                          LoadImageFile(FramePath(e), pipeline_, /*augment=*/false, context, index));
    s.image = std::move(image.tensor);
    AVSL_ASSIGN_OR_RETURN(s.audio, LoadAudioFileFeatures(AudioPath(e), clip_, pipeline_));
    // gt_box is in the 224x224 frame the image is squashed to: the test view itself.
    s.gt_map = data::Is3GtMap(e.box, pipeline_.gt_size);
    s.has_gt = true;
    return s;
  }

  std::string Describe(size_t index) const override {
    if (index >= entries_.size()) return absl::StrCat(kComponent, " index ", index, " out of range");
    const data::Is3Entry& e = entries_[index];
    return absl::StrCat(kComponent, " ", e.name, ": ", FramePath(e), " + ", AudioPath(e));
  }

 private:
  std::string FramePath(const data::Is3Entry& e) const {
    return (fs::path(frames_) / fs::path(e.image).filename()).string();
  }
  std::string AudioPath(const data::Is3Entry& e) const {
    return (fs::path(audio_) / fs::path(e.audio).filename()).string();
  }

  std::vector<data::Is3Entry> entries_;
  std::string frames_, audio_;
  PipelineOptions pipeline_;
  data::ClipOptions clip_;
};

absl::StatusOr<std::shared_ptr<Dataset>> MakeIs3(const ComponentConfig& c) {
  AVSL_ASSIGN_OR_RETURN(PipelineOptions pipeline, ReadPipelineOptions(c));
  const std::string root = c.GetString("root");
  std::error_code ec;
  if (root.empty() || !fs::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat(kComponent, " root ('", c.path(), ".root') '", root,
                                            "': directory not found (the IS3 download's folder)"));
  }
  const std::string path = ResolvePath(root, c.GetString("annotations"));
  absl::StatusOr<std::vector<data::Is3Entry>> entries = data::ReadIs3Annotation(path);
  if (!entries.ok()) {
    return Prefixed(entries.status(), absl::StrCat(kComponent, " annotations ('", c.path(), ".annotations'): "));
  }
  if (entries->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kComponent, " annotations ", path, ": no entries"));
  }
  return std::shared_ptr<Dataset>(
      std::make_shared<Is3Dataset>(*std::move(entries), ResolvePath(root, c.GetString("frames_dir")),
                                   ResolvePath(root, c.GetString("audio_dir")), pipeline, ReadAudioFileOptions(c)));
}

}  // namespace

void RegisterIs3(Registrar& registrar) {
  Schema s("IS3 (Senocak et al., TPAMI 2025): one sample per (image, object) of synthetic3240_bbox.json, the "
           "object's box as GT, the two objects of an image one frame (IIoU)");
  s.OptionalString("root", "the IS3 folder").Required();
  s.String("annotations", "synthetic3240_bbox.json",
           "list of {image, audio, gt_box} (gt_box in 224 pixels); relative to root");
  s.String("frames_dir", "images", "folder of the images (named as in the annotations' image paths); relative to root");
  s.String("audio_dir", "audio_wav", "folder of the WAV files (named as in the audio paths); relative to root");
  AddAudioFileFields(s);
  AddPipelineFields(s, 224);
  registrar.Register<Dataset>("IS3", std::move(s), MakeIs3,
                              "IS3 interactive benchmark: two objects per image, each queried with its own sound");
}

}  // namespace avsl::plugins::datasets
