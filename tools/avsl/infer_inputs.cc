#include "infer_inputs.h"

#include <exception>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

// A TOML basic string: the file names go into a recipe override.
std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The first data set of the recipe that evaluation would use: test, else val, else train (empty config if none).
ComponentConfig EvaluationSet(const ComponentConfig& root, std::string* split) {
  const ComponentConfig data = root.Sub("data");
  for (const char* name : {"test", "val", "train"}) {
    ComponentConfig set = data.Sub(name);
    if (set.type().empty()) continue;
    *split = name;
    return set;
  }
  return data.Sub("test");
}

// The test pipeline's keys of the evaluation set, so that the user's media are prepared exactly as the run's own
// test samples; `with_clip` adds its clip_seconds.
std::vector<std::string> PipelineFields(const ComponentConfig& root, bool with_clip) {
  std::vector<std::string> fields;
  std::string split;
  const ComponentConfig set = EvaluationSet(root, &split);
  if (set.type().empty()) return fields;
  const std::string type = set.type();
  if (type != "datasets.Flickr" && type != "datasets.VggSound" && type != "datasets.SyntheticAV") {
    std::cerr << "avsl infer: warning: data." << split << " is " << type
              << ", whose pipeline avsl infer does not know; the inputs get the file pipeline with the keys it "
                 "shares (input_size, gt_size, nperseg, noverlap, clip_seconds, sample_rate)\n";
  }
  // A key of another type (a plugin dataset's own meaning) is left at the default, not misread.
  for (const char* key : {"input_size", "gt_size", "nperseg", "noverlap", "sample_rate"}) {
    try {
      if (set.Has(key)) fields.push_back(absl::StrCat(key, " = ", set.GetInt(key)));
    } catch (const std::exception&) {
    }
  }
  if (with_clip) {
    if (std::optional<double> clip = RecipeClipSeconds(root)) {
      fields.push_back(absl::StrFormat("clip_seconds = %.17g", *clip));
    }
  }
  return fields;
}

}  // namespace

std::optional<double> RecipeClipSeconds(const ComponentConfig& root) {
  std::string split;
  const ComponentConfig set = EvaluationSet(root, &split);
  try {
    if (!set.type().empty() && set.Has("clip_seconds")) return set.GetFloat("clip_seconds");
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string PairsOverride(const ComponentConfig& root, const std::vector<std::string>& images,
                          const std::vector<std::string>& audios, const std::vector<std::string>& keys) {
  std::vector<std::string> fields = {"type = \"datasets.Pairs\""};
  auto list = [&](const char* name, const std::vector<std::string>& values, bool paths) {
    std::vector<std::string> quoted;
    for (const std::string& v : values) quoted.push_back(TomlString(paths ? fs::absolute(v).string() : v));
    fields.push_back(absl::StrCat(name, " = [", absl::StrJoin(quoted, ", "), "]"));
  };
  list("images", images, true);
  list("audios", audios, true);
  list("keys", keys, false);
  for (std::string& f : PipelineFields(root, /*with_clip=*/true)) fields.push_back(std::move(f));
  return "data.test={" + absl::StrJoin(fields, ", ") + "}";
}

std::string VideoFramesOverride(const ComponentConfig& root, const std::string& video, double fps,
                                std::optional<double> window_seconds, const std::string& key_prefix) {
  std::vector<std::string> fields = {
      "type = \"datasets.VideoFrames\"", absl::StrCat("path = ", TomlString(fs::absolute(video).string())),
      absl::StrFormat("fps = %.17g", fps), absl::StrCat("key_prefix = ", TomlString(key_prefix))};
  for (std::string& f : PipelineFields(root, /*with_clip=*/!window_seconds)) fields.push_back(std::move(f));
  if (window_seconds) fields.push_back(absl::StrFormat("clip_seconds = %.17g", *window_seconds));
  return "data.test={" + absl::StrJoin(fields, ", ") + "}";
}

}  // namespace avsl::cli
