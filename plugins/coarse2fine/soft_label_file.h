// The per-sample soft pseudo labels coarse2fine trains its class heads on when the recipe names a file
// (label_source = "file"): the released code's labels come from pretrained taggers that are not public, so they
// are computed elsewhere and read here (README.md, "Label file format").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace avsl::plugins::coarse2fine {

/// One sample's labels: audio (y_a) and visual (y_v) soft targets, num_classes values in [0,1] each.
struct SoftLabels {
  std::vector<float> audio;
  std::vector<float> visual;
  int line = 0;  ///< 1-based line of the file the row came from
};

/// A table read from a comma-separated text file. Each line is `key,p_1,...,p_C` (one vector for both modalities)
/// or `key,a_1,...,a_C,v_1,...,v_C` (audio then visual). Blank lines and lines starting with '#' are skipped, and
/// so is a first data line whose key is `key` (a header). Keys are the dataset's sample keys
/// (`video_id`, or `video_id__audio_id` for a mismatched pair). Every error names the file and the line.
class SoftLabelTable {
 public:
  static absl::StatusOr<SoftLabelTable> Load(const std::string& path, int64_t num_classes);
  /// Parses `text` as the contents of `path` (the name used in messages).
  static absl::StatusOr<SoftLabelTable> Parse(const std::string& text, const std::string& path, int64_t num_classes);

  /// nullptr when the key has no row.
  const SoftLabels* Find(const std::string& key) const;
  size_t size() const { return rows_.size(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::map<std::string, SoftLabels> rows_;
};

}  // namespace avsl::plugins::coarse2fine
