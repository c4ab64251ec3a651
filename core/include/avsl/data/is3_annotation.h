// IS3 ground truth (Senocak et al., TPAMI 2025, the Interactive Synthetic Sound Source benchmark) in the form its
// evaluator reads: `synthetic3240_bbox.json` of kaistmm/SSLalignment, a JSON list of
// {"image": ".../<stem>_<object>.jpg", "audio": ".../<stem>_<object>.wav", "gt_box": [xmin, ymin, xmax, ymax]}
// with the box in 224x224 pixels. An image with two objects is two entries; the reference groups them by the
// entry's name without its last "_" token (test.py's short_name), which is the frame id here.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"

namespace avsl::data {

struct Is3Entry {
  std::string name;          ///< file stem of `image`: "<stem>_<object>"
  std::string frame;         ///< name without its last "_" token: the IIoU group
  std::string image;         ///< as written in the file
  std::string audio;         ///< as written in the file
  std::array<int, 4> box{};  ///< int() of each gt_box value (the reference truncates), 224-pixel frame
};

/// Parses JSON text. Errors (malformed JSON, a missing or mistyped field, a box without 4 numbers, a name without
/// "_", a duplicate name) name `source_name` and the entry index.
absl::StatusOr<std::vector<Is3Entry>> ParseIs3Annotation(const std::string& json_text, const std::string& source_name);
absl::StatusOr<std::vector<Is3Entry>> ReadIs3Annotation(const std::string& path);

/// The binary GT of `box` on a map_size x map_size map: rows [ymin, ymax) x columns [xmin, xmax) of the 224 frame,
/// scaled by map_size/224 (truncated) when map_size is not 224.
Map2D Is3GtMap(const std::array<int, 4>& box, int map_size = 224);

}  // namespace avsl::data
