#include "avsl/data/is3_annotation.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "avsl/data/csv.h"

namespace avsl::data {

absl::StatusOr<std::vector<Is3Entry>> ParseIs3Annotation(const std::string& json_text, const std::string& source_name) {
  using nlohmann::json;
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("IS3 annotations ", source_name, ": ", what));
  };
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    return error(absl::StrCat("malformed JSON: ", e.what()));
  }
  if (!root.is_array()) return error(absl::StrCat("expected a JSON array of entries, found ", root.type_name()));
  std::vector<Is3Entry> out;
  std::set<std::string> names;
  for (size_t i = 0; i < root.size(); ++i) {
    const json& item = root[i];
    auto entry_error = [&](const std::string& what) { return error(absl::StrCat("entry ", i, ": ", what)); };
    if (!item.is_object()) return entry_error(absl::StrCat("expected an object, found ", item.type_name()));
    for (const char* key : {"image", "audio", "gt_box"}) {
      if (!item.contains(key)) return entry_error(absl::StrCat("missing field \"", key, "\""));
    }
    if (!item["image"].is_string() || !item["audio"].is_string()) {
      return entry_error("\"image\" and \"audio\" must be strings");
    }
    Is3Entry e;
    e.image = item["image"].get<std::string>();
    e.audio = item["audio"].get<std::string>();
    e.name = std::filesystem::path(e.image).stem().string();
    const size_t cut = e.name.rfind('_');
    if (cut == std::string::npos || cut == 0) {
      return entry_error(
          absl::StrCat("image name \"", e.name, "\" has no \"_<object>\" suffix (expected <stem>_<object>)"));
    }
    e.frame = e.name.substr(0, cut);
    const json& box = item["gt_box"];
    if (!box.is_array() || box.size() != 4) {
      return entry_error(absl::StrCat("(", e.name, ") gt_box is ", box.dump(), ", expected [xmin, ymin, xmax, ymax]"));
    }
    for (size_t k = 0; k < 4; ++k) {
      if (!box[k].is_number() || !std::isfinite(box[k].get<double>())) {
        return entry_error(
            absl::StrCat("(", e.name, ") gt_box value ", k, " is ", box[k].dump(), ", expected a number"));
      }
      e.box[k] = static_cast<int>(std::clamp(box[k].get<double>(), -1e6, 1e6));  // Python's int(): toward zero
    }
    if (!names.insert(e.name).second) return entry_error(absl::StrCat("duplicate image name ", e.name));
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<Is3Entry>> ReadIs3Annotation(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return absl::Status(text.status().code(), absl::StrCat("IS3 annotations ", text.status().message()));
  return ParseIs3Annotation(*text, path);
}

Map2D Is3GtMap(const std::array<int, 4>& box, int map_size) {
  Map2D map(map_size, map_size);
  const auto scale = [&](int v) {
    return std::clamp(map_size == 224 ? v : static_cast<int>(static_cast<double>(v) * map_size / 224.0), 0, map_size);
  };
  const int x0 = scale(box[0]), y0 = scale(box[1]), x1 = scale(box[2]), y1 = scale(box[3]);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) map.at(y, x) = 1.0;
  return map;
}

}  // namespace avsl::data
