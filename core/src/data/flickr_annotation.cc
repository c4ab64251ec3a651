#include "avsl/data/flickr_annotation.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include <pugixml.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/csv.h"

namespace avsl::data {
namespace {

std::string IdFromFileName(const std::string& file_name) { return file_name.substr(0, file_name.find('.')); }

// Python's int(str) for the texts we expect: optional surrounding whitespace, optional sign, decimal digits.
bool ParsePyInt(const std::string& text, int* out) {
  const std::string s(absl::StripAsciiWhitespace(text));
  if (s.empty()) return false;
  size_t pos = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (pos == s.size()) return false;
  for (size_t k = pos; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return false;
  }
  errno = 0;
  const long v = std::strtol(s.c_str(), nullptr, 10);
  if (errno == ERANGE || v > 1000000000L || v < -1000000000L) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

std::array<int, 2> PySliceRange(int start, int stop, int length) {
  auto norm = [length](int v) {
    if (v < 0) v += length;
    return std::clamp(v, 0, length);
  };
  return {norm(start), norm(stop)};
}

absl::StatusOr<FlickrAnnotation> ParseFlickrAnnotationXml(const std::string& xml, const std::string& source_name,
                                                          const FlickrAnnotationOptions& options) {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("flickr annotation ", source_name, ": ", what));
  };
  if (options.annotation_size <= 0 || options.map_size <= 0) {
    return error(absl::StrCat("annotation_size and map_size must be positive, got ", options.annotation_size, " and ",
                              options.map_size));
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    return error(absl::StrCat("malformed XML at byte offset ", parsed.offset, ": ", parsed.description()));
  }
  const pugi::xml_node root = doc.document_element();
  if (!root) return error("no root element");

  FlickrAnnotation annotation;
  annotation.id = IdFromFileName(std::filesystem::path(source_name).filename().string());
  int bbox_index = 0;
  for (pugi::xml_node child = root.first_child(); child; child = child.next_sibling()) {
    if (child.type() != pugi::node_element) continue;
    for (pugi::xml_node grandchild = child.first_child(); grandchild; grandchild = grandchild.next_sibling()) {
      if (grandchild.type() != pugi::node_element) continue;
      if (std::string(grandchild.name()) != "bbox") {
        if (options.skip_non_bbox_grandchildren) continue;
        return error(absl::StrCat("<", child.name(), "> has a <", grandchild.name(),
                                  "> child, expected only <bbox> children (the reference turns it into an "
                                  "empty box)"));
      }
      std::vector<pugi::xml_node> fields;
      for (pugi::xml_node f = grandchild.first_child(); f; f = f.next_sibling()) {
        if (f.type() == pugi::node_element) fields.push_back(f);
      }
      if (fields.size() != 5) {
        return error(absl::StrCat("<bbox> #", bbox_index, " has ", fields.size(),
                                  " fields, expected 5 (a skipped first field, then xmin, ymin, xmax, ymax)"));
      }
      FlickrBox box;
      for (int k = 0; k < 4; ++k) {
        const pugi::xml_node f = fields[static_cast<size_t>(k) + 1];
        const std::string text = f.child_value();
        if (!ParsePyInt(text, &box.raw[static_cast<size_t>(k)])) {
          return error(absl::StrCat("<bbox> #", bbox_index, " field ", k + 1, " <", f.name(), "> is \"", text,
                                    "\", expected an integer"));
        }
      }
      // int(224 * v / 256) in Python: float division then truncation toward zero; the same IEEE ops here.
      auto scale = [&](int v) {
        return static_cast<int>(static_cast<double>(options.map_size) * v / options.annotation_size);
      };
      box.xmin = scale(box.raw[0]);
      box.ymin = scale(box.raw[1]);
      box.xmax = scale(box.raw[2]);
      box.ymax = scale(box.raw[3]);
      annotation.boxes.push_back(box);
      ++bbox_index;
    }
  }
  return annotation;
}

absl::StatusOr<FlickrAnnotation> ReadFlickrAnnotation(const std::string& path, const FlickrAnnotationOptions& options) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("flickr annotation ", text.status().message()));
  }
  return ParseFlickrAnnotationXml(*text, path, options);
}

absl::StatusOr<std::map<std::string, FlickrAnnotation>> ReadFlickrAnnotationDir(
    const std::string& annotation_dir, const FlickrAnnotationOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(annotation_dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("flickr annotation directory ", annotation_dir, ": not found or not a directory"));
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(annotation_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".xml") files.push_back(it->path());
  }
  if (ec) {
    return absl::InternalError(absl::StrCat("flickr annotation directory ", annotation_dir, ": ", ec.message()));
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, FlickrAnnotation> out;
  std::map<std::string, std::string> source_of;
  for (const fs::path& file : files) {
    AVSL_ASSIGN_OR_RETURN(FlickrAnnotation annotation, ReadFlickrAnnotation(file.string(), options));
    auto [it, inserted] = source_of.emplace(annotation.id, file.string());
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("flickr annotation directory ", annotation_dir, ": ",
                                                     file.string(), " and ", it->second, " both have id ",
                                                     annotation.id));
    }
    out.emplace(annotation.id, std::move(annotation));
  }
  return out;
}

Map2D FlickrGtMap(const std::vector<FlickrBox>& boxes, int map_size) {
  Map2D sum(map_size, map_size, 0.0);
  for (const FlickrBox& b : boxes) {
    const auto [y0, y1] = PySliceRange(b.ymin, b.ymax, map_size);
    const auto [x0, x1] = PySliceRange(b.xmin, b.xmax, map_size);
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) sum.at(y, x) += 1.0;
    }
  }
  for (double& v : sum.values) v = std::min(v / 2.0, 1.0);
  return sum;
}

}  // namespace avsl::data
