// Flickr-SoundNet ground truth: `Annotations/<id>.xml` parsed with the reference's positional rule
// (EZ-VSL/SLAVC `datasets.py::load_all_bboxes`, `bbox2gtmap`), and the annotator-consensus map.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"

namespace avsl::data {

/// Geometry of the Flickr annotations. The defaults are the reference's: boxes drawn on a 256×256 image,
/// scored on the 224×224 test frame.
struct FlickrAnnotationOptions {
  int annotation_size = 256;  ///< the pixel frame the XML coordinates are in.
  int map_size = 224;         ///< the side of the GT map; coordinates become int(map_size * v / annotation_size).
  /// The reference appends an empty box for every grandchild that is not <bbox>, which then fails in bbox2gtmap
  /// (and its loader silently swaps in another sample). So by default such a grandchild is an error; set this to
  /// skip them instead (e.g. for annotation files from other tools).
  bool skip_non_bbox_grandchildren = false;
};

/// One annotator box: `raw` as written in the XML (xmin, ymin, xmax, ymax in annotation pixels) and the scaled
/// coordinates in the map frame, truncated as `int(224*v/256)`.
struct FlickrBox {
  std::array<int, 4> raw{};
  int xmin = 0, ymin = 0, xmax = 0, ymax = 0;
};

/// All boxes of one image, in document order.
struct FlickrAnnotation {
  std::string id;  ///< file name up to its first '.', as the reference keys it.
  std::vector<FlickrBox> boxes;
};

/// Parses XML text. For each grandchild <bbox> of the root, the first sub-element is skipped and the next four
/// must be integer texts (xmin, ymin, xmax, ymax); exactly five sub-elements are required because the reference
/// unpacks exactly four values. Errors name `source_name` and what was expected / found.
absl::StatusOr<FlickrAnnotation> ParseFlickrAnnotationXml(const std::string& xml, const std::string& source_name,
                                                          const FlickrAnnotationOptions& options = {});

/// Reads and parses one `Annotations/<id>.xml`; the id is the file name up to its first '.'.
absl::StatusOr<FlickrAnnotation> ReadFlickrAnnotation(const std::string& path,
                                                      const FlickrAnnotationOptions& options = {});

/// Reads every `*.xml` file of `annotation_dir`, keyed by id. Other files are ignored (the reference would try
/// to parse them); two files with the same id are an error.
absl::StatusOr<std::map<std::string, FlickrAnnotation>> ReadFlickrAnnotationDir(
    const std::string& annotation_dir, const FlickrAnnotationOptions& options = {});

/// Consensus map: each box adds 1 on rows [ymin, ymax) and columns [xmin, xmax) (numpy slice semantics, so
/// negative or oversized coordinates behave as in the reference), then min(sum / 2, 1). One box → 0.5, two or
/// more → 1.
Map2D FlickrGtMap(const std::vector<FlickrBox>& boxes, int map_size = 224);

/// Python/numpy slice bounds [start, stop) of a length-`length` axis as the half-open range actually covered
/// (negative indices count from the end, then clamp to [0, length]); returns begin >= end when empty.
std::array<int, 2> PySliceRange(int start, int stop, int length);

}  // namespace avsl::data
