#include "avsl/data/vggss_annotation.h"

#include <algorithm>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "avsl/data/csv.h"

namespace avsl::data {

int VggssPixel(double normalized, int map_size) {
  const double clipped = std::clamp(normalized, 0.0, 1.0);
  return static_cast<int>(clipped * map_size);
}

Map2D VggssGtMap(const std::vector<VggssBox>& boxes, int map_size) {
  Map2D map(map_size, map_size, 0.0);
  for (const VggssBox& b : boxes) {
    // Pixels are already in [0, map_size], so the numpy slice is just the half-open range (empty if reversed).
    for (int y = b.y1; y < b.y2; ++y) {
      for (int x = b.x1; x < b.x2; ++x) map.at(y, x) = 1.0;
    }
  }
  return map;
}

absl::StatusOr<VggssIndex> VggssIndex::Parse(const std::string& json_text, const std::string& source_name,
                                             int map_size) {
  using nlohmann::json;
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("vggss annotations ", source_name, ": ", what));
  };
  if (map_size <= 0) return error(absl::StrCat("map_size must be positive, got ", map_size));
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return error(absl::StrCat("malformed JSON at byte ", e.byte, ": ", e.what()));
  } catch (const json::exception& e) {
    // A number too large for a double (out_of_range), among others: found by fuzzing
    // (tests/fuzz/regressions/vggss_json).
    return error(absl::StrCat("malformed JSON: ", e.what()));
  }
  if (!root.is_array()) return error(absl::StrCat("expected a JSON array of entries, found ", root.type_name()));

  VggssIndex index;
  index.map_size_ = map_size;
  index.entries_.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const json& item = root[i];
    auto entry_error = [&](const std::string& what) { return error(absl::StrCat("entry ", i, ": ", what)); };
    if (!item.is_object()) return entry_error(absl::StrCat("expected an object, found ", item.type_name()));
    for (const char* key : {"file", "class", "bbox"}) {
      if (!item.contains(key)) return entry_error(absl::StrCat("missing field \"", key, "\""));
    }
    const json& file = item["file"];
    const json& cls = item["class"];
    const json& bbox = item["bbox"];
    if (!file.is_string() || file.get_ref<const std::string&>().empty()) {
      return entry_error(absl::StrCat("\"file\" must be a non-empty string, found ", file.dump()));
    }
    if (!cls.is_string()) return entry_error(absl::StrCat("\"class\" must be a string, found ", cls.dump()));
    if (!bbox.is_array()) return entry_error(absl::StrCat("\"bbox\" must be a list, found ", bbox.type_name()));

    VggssEntry entry;
    entry.file = file.get<std::string>();
    entry.class_name = cls.get<std::string>();
    for (size_t b = 0; b < bbox.size(); ++b) {
      const json& box = bbox[b];
      if (!box.is_array() || box.size() != 4) {
        return entry_error(
            absl::StrCat("(file ", entry.file, ") bbox ", b, " is ", box.dump(), ", expected [x1, y1, x2, y2]"));
      }
      VggssBox out;
      for (size_t k = 0; k < 4; ++k) {
        if (!box[k].is_number()) {
          return entry_error(absl::StrCat("(file ", entry.file, ") bbox ", b, " value ", k, " is ", box[k].dump(),
                                          ", expected a number"));
        }
        out.normalized[k] = box[k].get<double>();
      }
      out.x1 = VggssPixel(out.normalized[0], map_size);
      out.y1 = VggssPixel(out.normalized[1], map_size);
      out.x2 = VggssPixel(out.normalized[2], map_size);
      out.y2 = VggssPixel(out.normalized[3], map_size);
      entry.boxes.push_back(out);
    }
    auto [it, inserted] = index.by_file_.emplace(entry.file, i);
    if (!inserted) {
      return entry_error(absl::StrCat("duplicate file ", entry.file, " (first seen in entry ", it->second, ")"));
    }
    index.entries_.push_back(std::move(entry));
  }
  return index;
}

absl::StatusOr<VggssIndex> VggssIndex::Read(const std::string& path, int map_size) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("vggss annotations ", text.status().message()));
  }
  return Parse(*text, path, map_size);
}

const VggssEntry* VggssIndex::Find(const std::string& file) const {
  auto it = by_file_.find(file);
  return it == by_file_.end() ? nullptr : &entries_[it->second];
}

std::vector<std::string> VggssIndex::ClassNames() const {
  std::set<std::string> names;
  for (const VggssEntry& e : entries_) names.insert(e.class_name);
  return {names.begin(), names.end()};
}

Map2D VggssIndex::GtMap(const VggssEntry& entry) const { return VggssGtMap(entry.boxes, map_size_); }

}  // namespace avsl::data
