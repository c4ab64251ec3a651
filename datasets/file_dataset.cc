#include "file_dataset.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/flickr_annotation.h"
#include "avsl/data/overlap.h"
#include "negative_audio.h"

namespace avsl::plugins::datasets {
namespace {

// A `.csv` is a test CSV (id in column 0); anything else is an id list.
absl::StatusOr<std::vector<std::string>> ReadIds(const std::string& path) {
  if (absl::EndsWith(path, ".csv")) {
    AVSL_ASSIGN_OR_RETURN(std::vector<data::TestEntry> rows, data::ReadTestCsv(path));
    return data::VideoIds(rows);
  }
  return data::ReadIdList(path);
}

absl::StatusOr<std::vector<std::string>> ReadIdsForKey(const ComponentConfig& c, const std::string& component,
                                                       const std::string& root, const std::string& key) {
  const std::string path = ResolvePath(root, c.GetString(key));
  absl::StatusOr<std::vector<std::string>> ids = ReadIds(path);
  if (!ids.ok()) return Prefixed(ids.status(), absl::StrCat(component, " ", key, " ('", c.path(), ".", key, "'): "));
  return ids;
}

}  // namespace

void AddFileDatasetFields(Schema& s) {
  s.OptionalString("root", "dataset directory holding frames/<id>.jpg and audio/<id>.wav").Required();
  s.OptionalString("list", "ids to use: an id list (one per line) or a test CSV (id in column 0); relative to root")
      .Required();
  s.String("mode", "train",
           "train: train transform, GT only for annotated_list; test: test transform, GT for "
           "every id; test_plus_silent: test + the non-sounding rows of extended_list")
      .OneOf({"train", "test", "test_plus_silent"});
  s.OptionalString("extended_list", "test_plus_silent: extended CSV (video,audio,label); ignored in other modes");
  s.OptionalString("annotated_list",
                   "train: ids whose GT is loaded for supervision (semi-supervised subset); ignored in test modes");
  s.OptionalString("exclude_list", "ids removed from `list` (e.g. the test ids: the train/test overlap); the "
                                   "count is reported");
  AddNegativeAudioField(s);
  AddAudioFileFields(s);
  AddPipelineFields(s, 224);
}

absl::StatusOr<FileLists> ReadFileLists(const ComponentConfig& c, const std::string& component) {
  FileLists out;
  out.root = c.GetString("root");
  if (out.root.empty()) {
    // Real-data recipes ship with empty roots: the data cannot be bundled, so the user names it.
    return absl::InvalidArgumentError(
        absl::StrCat(component, " root ('", c.path(), ".root') is empty: set it to the dataset folder, e.g. --set ",
                     c.path(), ".root='\"/data/...\"' (docs/datasets.md, Recipe variables)"));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(out.root, ec)) {
    return absl::NotFoundError(
        absl::StrCat(component, " root ('", c.path(), ".root') ", out.root, ": directory not found"));
  }
  const std::string mode = c.GetString("mode");
  out.mode = mode == "train" ? Mode::kTrain : mode == "test" ? Mode::kTest : Mode::kTestPlusSilent;

  AVSL_ASSIGN_OR_RETURN(out.positives, ReadIdsForKey(c, component, out.root, "list"));
  if (c.Has("exclude_list")) {
    AVSL_ASSIGN_OR_RETURN(std::vector<std::string> excluded, ReadIdsForKey(c, component, out.root, "exclude_list"));
    const data::OverlapReport overlap = data::FindOverlap(out.positives, excluded);
    out.has_exclude_list = true;
    out.excluded = overlap.count();
    out.exclusion_report = absl::StrCat(
        component, " ", c.path(), ": excluded ",
        data::DescribeOverlap(overlap, out.positives.size(), c.GetString("list"), c.GetString("exclude_list")));
    out.positives = data::ExcludeIds(out.positives, excluded);
  }
  if (out.mode == Mode::kTestPlusSilent) {
    if (!c.Has("extended_list")) {
      return absl::InvalidArgumentError(absl::StrCat(component, " ", c.path(),
                                                     ": mode test_plus_silent needs extended_list (the "
                                                     "*_test_plus_silent.csv file)"));
    }
    const std::string path = ResolvePath(out.root, c.GetString("extended_list"));
    absl::StatusOr<std::vector<data::TestEntry>> rows = data::ReadExtendedTestCsv(path);
    if (!rows.ok()) {
      return Prefixed(rows.status(), absl::StrCat(component, " extended_list ('", c.path(), ".extended_list'): "));
    }
    for (const data::TestEntry& e : data::CombineExtendedTestSet({}, *rows)) out.negatives.push_back(e);
  }
  AVSL_ASSIGN_OR_RETURN(out.negative_audio, ReadNegativeAudioKinds(c, component, out.mode != Mode::kTrain));
  out.negative_audio_key = c.path() + ".negative_audio";
  if (out.mode == Mode::kTrain && c.Has("annotated_list")) {
    AVSL_ASSIGN_OR_RETURN(std::vector<std::string> ids, ReadIdsForKey(c, component, out.root, "annotated_list"));
    out.annotated.insert(ids.begin(), ids.end());
  }
  // The overlap is a property of the published lists that changes results; say it where runs are logged.
  if (out.has_exclude_list) std::cerr << "[datasets] " << out.exclusion_report << "\n";
  return out;
}

std::vector<FileEntry> ListEntries(const FileLists& lists, const std::vector<std::string>& positives) {
  std::vector<FileEntry> entries;
  entries.reserve(positives.size() + lists.negatives.size());
  for (const std::string& id : positives) {
    FileEntry e;
    e.video_id = e.audio_id = id;
    e.annotated = lists.mode != Mode::kTrain || lists.annotated.count(id) > 0;
    entries.push_back(std::move(e));
  }
  for (const data::TestEntry& t : lists.negatives) {
    FileEntry e;
    e.video_id = t.video_id;
    e.audio_id = t.audio_id;
    e.sounding = false;
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::Status AppendNegativeAudio(const FileLists& lists, const std::string& component,
                                 std::vector<FileEntry>* entries) {
  if (lists.negative_audio.empty()) return absl::OkStatus();
  std::vector<FileEntry> positives;
  for (const FileEntry& e : *entries) {
    if (e.sounding && e.negative_audio.empty()) positives.push_back(e);
  }
  for (const std::string& kind : lists.negative_audio) {
    std::vector<size_t> partner;
    if (kind == "offscreen") {
      std::vector<std::string> frames;
      std::vector<int> classes;
      for (const FileEntry& e : positives) {
        frames.push_back(e.video_id);
        classes.push_back(e.class_id);
      }
      AVSL_ASSIGN_OR_RETURN(partner, OffscreenPartners(frames, classes, component, lists.negative_audio_key));
    }
    for (size_t i = 0; i < positives.size(); ++i) {
      FileEntry e;
      e.video_id = positives[i].video_id;
      e.audio_id = partner.empty() ? positives[i].audio_id : positives[partner[i]].audio_id;
      e.class_id = partner.empty() ? -1 : positives[partner[i]].class_id;
      e.sounding = false;
      e.negative_audio = kind;
      entries->push_back(std::move(e));
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<Dataset> NewFileDataset(const ComponentConfig& c, const std::string& component, const FileLists& lists,
                                        std::vector<FileEntry> entries, GtSource gt, const PipelineOptions& pipeline) {
  return std::make_shared<FileDataset>(component, lists.root, lists.mode, std::move(entries), std::move(gt), pipeline,
                                       ReadAudioFileOptions(c));
}

FileDataset::FileDataset(std::string component, std::string root, Mode mode, std::vector<FileEntry> entries,
                         GtSource gt, PipelineOptions pipeline, data::ClipOptions clip)
    : component_(std::move(component)),
      root_(std::move(root)),
      mode_(mode),
      entries_(std::move(entries)),
      gt_(std::move(gt)),
      pipeline_(pipeline),
      clip_(clip) {}

std::string SampleKey(const std::string& video_id, const std::string& audio_id) {
  return video_id == audio_id ? video_id : absl::StrCat(video_id, "__", audio_id);
}

std::string EntryKey(const FileEntry& e) {
  return e.negative_audio.empty() ? SampleKey(e.video_id, e.audio_id)
                                  : NegativeAudioKey(e.video_id, e.negative_audio, e.audio_id);
}

std::string FileDataset::FramePath(const FileEntry& e) const {
  return (std::filesystem::path(root_) / "frames" / (e.video_id + ".jpg")).string();
}

std::string FileDataset::AudioPath(const FileEntry& e) const {
  return (std::filesystem::path(root_) / "audio" / (e.audio_id + ".wav")).string();
}

std::string FileDataset::Describe(size_t index) const {
  if (index >= entries_.size()) return absl::StrCat(component_, " index ", index, " out of range");
  const FileEntry& e = entries_[index];
  if (!e.negative_audio.empty() && e.negative_audio != "offscreen") {
    return absl::StrCat(component_, " ", NegativeAudioKey(e.video_id, e.negative_audio, e.audio_id), ": ", FramePath(e),
                        " + ", e.negative_audio, " (negative audio, as long as ", AudioPath(e), ")");
  }
  return absl::StrCat(component_, " ", EntryKey(e), ": ", FramePath(e), " + ", AudioPath(e),
                      !e.negative_audio.empty() ? " (negative audio: offscreen)"
                      : e.sounding              ? ""
                                                : " (non-sounding)");
}

absl::StatusOr<Map2D> FileDataset::LoadGt(const FileEntry& e) const {
  if (gt_.kind == GtSource::Kind::kFlickrXml) {
    const std::string path = (std::filesystem::path(gt_.annotation_dir) / (e.video_id + ".xml")).string();
    data::FlickrAnnotationOptions options;
    options.map_size = pipeline_.gt_size;
    AVSL_ASSIGN_OR_RETURN(data::FlickrAnnotation a, data::ReadFlickrAnnotation(path, options));
    return data::FlickrGtMap(a.boxes, pipeline_.gt_size);
  }
  // Presence was checked when the dataset was built.
  const data::VggssEntry* entry = gt_.vggss->Find(e.video_id);
  if (entry == nullptr) return absl::InternalError(absl::StrCat(component_, ": no vggss entry for ", e.video_id));
  return gt_.vggss->GtMap(*entry);
}

absl::StatusOr<Sample> FileDataset::Get(size_t index, const SampleContext& context) const {
  if (index >= entries_.size()) {
    return absl::OutOfRangeError(absl::StrCat(component_, ": index ", index, " >= size ", entries_.size()));
  }
  const FileEntry& e = entries_[index];
  Sample s;
  s.key = EntryKey(e);
  s.video_id = e.video_id;
  s.audio_id = e.audio_id;
  s.sounding = e.sounding;
  s.class_id = e.class_id;
  s.negative_audio = e.negative_audio;

  const bool augment = mode_ == Mode::kTrain && context.train;
  AVSL_ASSIGN_OR_RETURN(TransformedImage image, LoadImageFile(FramePath(e), pipeline_, augment, context, index));
  s.image = std::move(image.tensor);
  if (e.negative_audio.empty() || e.negative_audio == "offscreen") {
    AVSL_ASSIGN_OR_RETURN(s.audio, LoadAudioFileFeatures(AudioPath(e), clip_, pipeline_));
  } else {
    // The frame's own window, read for its length and rate, then replaced.
    AVSL_ASSIGN_OR_RETURN(data::MonoAudio own, data::LoadAudioClip(AudioPath(e), clip_));
    const std::vector<double> replaced = ReplacementWaveform(e.negative_audio, own.samples.size(),
                                                             NoiseSeed(e.video_id));
    AVSL_ASSIGN_OR_RETURN(s.audio, AudioFeatures(replaced, own.sample_rate, pipeline_, Describe(index)));
    s.audio_id = e.negative_audio;
  }

  if (e.sounding && e.annotated) {
    AVSL_ASSIGN_OR_RETURN(Map2D gt, LoadGt(e));
    s.gt_map = GtInInputView(gt, image.geometry, augment, pipeline_.gt_size);
    s.has_gt = true;
  }
  return s;
}

}  // namespace avsl::plugins::datasets
