// VGG-SS ground truth: `vggss.json` (a list of {"file", "class", "bbox": [[x1,y1,x2,y2], ...]} with coordinates
// normalized to [0, 1]) read into an index keyed by file id, with the reference's box rounding and binary map.
#pragma once

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/export.h"
#include "avsl/core/map2d.h"

namespace avsl::data {

/// One box: the normalized values as stored and the map-frame pixels `(clip(v, 0, 1) * 224).astype(int)`.
/// The published file has boxes that are empty after this rounding (x2 <= x1 or y2 <= y1, e.g. a −2.88e16
/// coordinate clipped to 0); they are kept, exactly as the reference keeps them.
struct VggssBox {
  std::array<double, 4> normalized{};
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  bool empty() const { return x2 <= x1 || y2 <= y1; }
};

/// One annotated clip.
struct VggssEntry {
  std::string file;        ///< "<11-char YouTube id>_<6-digit start second>".
  std::string class_name;  ///< VGGSound label.
  std::vector<VggssBox> boxes;
};

/// The parsed vggss.json: entries in file order plus a lookup by `file`.
class AVSL_EXPORT VggssIndex {
 public:
  /// Parses JSON text. `map_size` is the GT map side (224 in the reference). Errors (malformed JSON, a missing
  /// or mistyped field, a box without 4 numbers, a duplicate `file`) name `source_name` and the entry index.
  static absl::StatusOr<VggssIndex> Parse(const std::string& json_text, const std::string& source_name,
                                          int map_size = 224);
  /// Reads and parses a vggss.json file.
  static absl::StatusOr<VggssIndex> Read(const std::string& path, int map_size = 224);

  const std::vector<VggssEntry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  int map_size() const { return map_size_; }
  /// The entry for `file`, or nullptr.
  const VggssEntry* Find(const std::string& file) const;
  /// Distinct class names, sorted.
  std::vector<std::string> ClassNames() const;
  /// Binary union of the entry's boxes on a map_size × map_size map.
  Map2D GtMap(const VggssEntry& entry) const;

 private:
  std::vector<VggssEntry> entries_;
  std::unordered_map<std::string, size_t> by_file_;
  int map_size_ = 224;
};

/// `(clip(v, 0, 1) * map_size)` truncated toward zero, as numpy's astype(int).
int VggssPixel(double normalized, int map_size = 224);

/// Binary union map: 1 on rows [y1, y2) × columns [x1, x2) of every box, 0 elsewhere.
Map2D VggssGtMap(const std::vector<VggssBox>& boxes, int map_size = 224);

}  // namespace avsl::data
