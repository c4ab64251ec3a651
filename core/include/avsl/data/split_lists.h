// Split files of the EZ-VSL/SLAVC metadata: train id lists (`*_10k.txt`, `*_144k.txt`, `vggss_heard.txt`,
// `flickr_sup_train.txt`), test CSVs (`flickr_test.csv`, `vggss_test.csv`, `vggss_{heard,unheard}_test.csv`)
// and the extended test sets (`*_test_plus_silent.csv`). docs/datasets.md lists the quirks of the real files.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace avsl::data {

/// One test pair. Normal test sets pair a frame with its own audio and are sounding; extended negatives pair a
/// frame with another clip's audio (or a clip with no visible source) and are non-sounding, with an empty GT.
struct TestEntry {
  std::string video_id;  ///< frames/<video_id>.jpg (and the GT key).
  std::string audio_id;  ///< audio/<audio_id>.wav.
  bool sounding = true;

  bool operator==(const TestEntry& o) const {
    return video_id == o.video_id && audio_id == o.audio_id && sounding == o.sounding;
  }
};

struct IdListOptions {
  /// Drop everything from the first '.' of each line, as the reference does for file listings (for lists that
  /// hold file names, e.g. Senocak's `Flickr_train_144k.txt` with `<id>.wav`).
  bool strip_extension = false;
};

/// Reads a train/id list: one id per line, "\n" or "\r\n" endings, the final line ending optional. Errors (with
/// the file and line number): an empty line before the end, whitespace or ',' in a line, a duplicate id.
absl::StatusOr<std::vector<std::string>> ReadIdList(const std::string& path, const IdListOptions& options = {});

/// Reads a test CSV: the id is column 0 (later columns, e.g. the unused integer of `flickr_test.csv`, are
/// ignored as in the reference); every row must have as many fields as the first one; ids must be non-empty,
/// without whitespace, and unique. Returns sounding entries with audio_id == video_id, in file order.
absl::StatusOr<std::vector<TestEntry>> ReadTestCsv(const std::string& path);

/// Reads an extended test CSV: header exactly `video,audio,label`, then 3-field rows whose label is
/// `non-sounding` or `sounding`. Entries are returned in file order.
absl::StatusOr<std::vector<TestEntry>> ReadExtendedTestCsv(const std::string& path);

/// The reference's extended test set: all `positives`, then the `non-sounding` rows of `extended` (rows with
/// another label are ignored, as the reference does). The reference then shuffles without a seed; callers that
/// need an order choose it (only AP ties depend on it).
std::vector<TestEntry> CombineExtendedTestSet(const std::vector<TestEntry>& positives,
                                              const std::vector<TestEntry>& extended);

/// The video ids of `entries`, in order.
std::vector<std::string> VideoIds(const std::vector<TestEntry>& entries);

}  // namespace avsl::data
