#include "avsl/synth/annotation_format.h"

#include <sstream>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

namespace avsl {
namespace synth {

std::string FlickrAnnotationXml(const std::string& id, const std::string& class_name,
                                const std::vector<std::array<int, 4>>& boxes_256) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("annotation");
  root.append_child("filename").text().set((id + ".jpg").c_str());
  root.append_child("class").text().set(class_name.c_str());
  pugi::xml_node object = root.append_child("object");
  static const char* const kFields[4] = {"xmin", "ymin", "xmax", "ymax"};
  for (size_t a = 0; a < boxes_256.size(); ++a) {
    pugi::xml_node bbox = object.append_child("bbox");
    bbox.append_child("annotator").text().set(static_cast<int>(a + 1));
    for (int f = 0; f < 4; ++f) bbox.append_child(kFields[f]).text().set(boxes_256[a][static_cast<size_t>(f)]);
  }
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

std::string VggssJson(const std::vector<VggssEntry>& entries) {
  // ordered_json keeps the published key order file, class, bbox.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const VggssEntry& e : entries) {
    nlohmann::ordered_json item;
    item["file"] = e.file;
    item["class"] = e.class_name;
    nlohmann::ordered_json boxes = nlohmann::ordered_json::array();
    for (const auto& b : e.boxes) boxes.push_back({b[0], b[1], b[2], b[3]});
    item["bbox"] = std::move(boxes);
    list.push_back(std::move(item));
  }
  return list.dump();
}

std::string JoinLines(const std::vector<std::string>& lines, LineEnding eol, bool final_newline) {
  const char* sep = eol == LineEnding::kCrLf ? "\r\n" : "\n";
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (i + 1 < lines.size() || final_newline) out += sep;
  }
  return out;
}

}  // namespace synth
}  // namespace avsl
