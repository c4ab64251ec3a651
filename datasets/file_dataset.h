// The file-backed audio-visual dataset behind datasets.Flickr and datasets.VggSound: <root>/frames/<id>.jpg,
// <root>/audio/<id>.wav and a ground-truth source (Flickr XML or vggss.json). Lists are read when the
// component is built; media and per-sample annotations are opened in Get(), so building a dataset of 144k
// ids costs one pass over the list files, and a missing file is reported by the sample that needs it.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/dataset.h"
#include "avsl/core/schema.h"
#include "avsl/data/split_lists.h"
#include "avsl/data/vggss_annotation.h"
#include "pipeline.h"

namespace avsl::plugins::datasets {

enum class Mode { kTrain, kTest, kTestPlusSilent };

/// One list entry.
struct FileEntry {
  std::string video_id;
  std::string audio_id;
  bool sounding = true;
  bool annotated = false;  ///< the GT is loaded (test positives; train ids of annotated_list)
  int class_id = -1;
  /// "" for the list's own entries; else the frame of positive `video_id` with its sound replaced (negative_audio):
  /// "silence" and "noise" read the clip `audio_id` (the frame's own) for its length and rate only; "offscreen"
  /// plays `audio_id`, another positive's clip.
  std::string negative_audio;
};

/// Keys shared by Flickr and VggSound: root, list, mode, extended_list, annotated_list, exclude_list,
/// clip_seconds, sample_rate and the pipeline keys.
void AddFileDatasetFields(Schema& schema);

/// The lists named by those keys, read and combined (everything but the GT source).
struct FileLists {
  std::string root;
  Mode mode = Mode::kTrain;
  std::vector<std::string> positives;      ///< list ids after exclusion, file order
  std::vector<data::TestEntry> negatives;  ///< non-sounding rows of extended_list (test_plus_silent only)
  std::set<std::string> annotated;         ///< ids of annotated_list (empty when not given)
  bool has_exclude_list = false;
  size_t excluded = 0;                      ///< list ids dropped because exclude_list names them
  std::string exclusion_report;             ///< one line for the log (DescribeOverlap)
  std::vector<std::string> negative_audio;  ///< the negative_audio kinds (test modes only)
  std::string negative_audio_key;           ///< its recipe key, for errors ("data.test.negative_audio")
};

/// Reads the lists (a `.csv` list is a test CSV, anything else an id list). Errors name the key and the file:
/// a missing root or list, a malformed list, test_plus_silent without extended_list.
absl::StatusOr<FileLists> ReadFileLists(const ComponentConfig& config, const std::string& component);

/// Where the GT of an annotated sample comes from.
struct GtSource {
  enum class Kind { kFlickrXml, kVggss } kind = Kind::kFlickrXml;
  std::string annotation_dir;                     ///< Flickr: <dir>/<id>.xml
  std::shared_ptr<const data::VggssIndex> vggss;  ///< VGG-SS: the parsed vggss.json
};

class FileDataset final : public Dataset {
 public:
  /// `component` ("datasets.Flickr") prefixes messages. `clip`: the audio window.
  FileDataset(std::string component, std::string root, Mode mode, std::vector<FileEntry> entries, GtSource gt,
              PipelineOptions pipeline, data::ClipOptions clip);

  size_t size() const override { return entries_.size(); }
  absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const override;
  std::string Describe(size_t index) const override;

  const std::vector<FileEntry>& entries() const { return entries_; }

 private:
  std::string FramePath(const FileEntry& e) const;
  std::string AudioPath(const FileEntry& e) const;
  absl::StatusOr<Map2D> LoadGt(const FileEntry& e) const;  ///< full-frame GT at gt_size

  std::string component_;
  std::string root_;
  Mode mode_;
  std::vector<FileEntry> entries_;
  GtSource gt_;
  PipelineOptions pipeline_;
  data::ClipOptions clip_;
};

/// The entries of a file dataset: one per id of `positives` (a subset of lists.positives, in its order),
/// annotated in the test modes and, in train mode, when annotated_list names it; then one non-sounding entry
/// per row of lists.negatives.
std::vector<FileEntry> ListEntries(const FileLists& lists, const std::vector<std::string>& positives);

/// Appends, for each kind of lists.negative_audio and each sounding list entry of `entries` (in order), the entry of
/// its frame with the replaced sound; the off-screen clip of entry i is OffscreenPartners' choice (class ids as set
/// in `entries`). NotFound naming `component` when a positive has no off-screen partner.
absl::Status AppendNegativeAudio(const FileLists& lists, const std::string& component, std::vector<FileEntry>* entries);
/// The dataset over `entries`, its audio window read from the clip_seconds / sample_rate keys of `config`
/// (AddFileDatasetFields).
std::shared_ptr<Dataset> NewFileDataset(const ComponentConfig& config, const std::string& component,
                                        const FileLists& lists, std::vector<FileEntry> entries, GtSource gt,
                                        const PipelineOptions& pipeline);

/// Sample key: the video id, or "<video>__<audio>" when the audio is another clip's.
std::string SampleKey(const std::string& video_id, const std::string& audio_id);
/// The key of an entry: SampleKey, or NegativeAudioKey for a negative-audio entry.
std::string EntryKey(const FileEntry& entry);

}  // namespace avsl::plugins::datasets
