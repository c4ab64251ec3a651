// Serializers for the on-disk annotation and list formats of the synthetic benchmark, matching the
// published Flickr-SoundNet / VGG-SS metadata (Flickr XML, vggss.json, the split lists and test CSVs; see
// docs/datasets.md).
#pragma once

#include <array>
#include <string>
#include <vector>

namespace avsl {
namespace synth {

/// Flickr-style annotation: root <annotation> with <filename> and <class> leaves and one <object> whose
/// children are only <bbox> elements (the reference parser appends an entry for every grandchild, so any
/// other grandchild would break it). Each <bbox> holds <annotator> (the skipped first field), then <xmin>,
/// <ymin>, <xmax>, <ymax> as integers in 256x256 coordinates.
std::string FlickrAnnotationXml(const std::string& id, const std::string& class_name,
                                const std::vector<std::array<int, 4>>& boxes_256);

/// One VGG-SS-style entry: boxes are [x1, y1, x2, y2] normalized by image width and height.
struct VggssEntry {
  std::string file;
  std::string class_name;
  std::vector<std::array<double, 4>> boxes;
};

/// The VGG-SS-style JSON: a list of {"file", "class", "bbox"} objects in the given order, on one line.
std::string VggssJson(const std::vector<VggssEntry>& entries);

/// Line endings of the published metadata files (the CSVs are CRLF, the .txt lists LF).
enum class LineEnding { kLf, kCrLf };

/// Joins `lines` with `eol`; `final_newline` adds one after the last line (several published files lack it).
std::string JoinLines(const std::vector<std::string>& lines, LineEnding eol, bool final_newline);

}  // namespace synth
}  // namespace avsl
