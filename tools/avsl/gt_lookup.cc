#include "avsl/gt_lookup.h"

#include <filesystem>
#include <utility>

#include "absl/strings/numbers.h"
#include "avsl/data/flickr_annotation.h"

namespace avsl::cli {

eval::GtLookup FlickrLookup(const std::string& dir) {
  return [dir](const std::string& video) -> absl::StatusOr<Map2D> {
    const std::string path = (std::filesystem::path(dir) / (video + ".xml")).string();
    if (!std::filesystem::exists(path)) {
      return absl::NotFoundError("no ground truth for video '" + video + "': " + path + " does not exist");
    }
    absl::StatusOr<data::FlickrAnnotation> annotation = data::ReadFlickrAnnotation(path);
    if (!annotation.ok()) return annotation.status();
    return data::FlickrGtMap(annotation->boxes);
  };
}

eval::GtLookup VggssLookup(std::shared_ptr<const data::VggssIndex> index, const std::string& path) {
  return [index, path](const std::string& video) -> absl::StatusOr<Map2D> {
    const data::VggssEntry* entry = index->Find(video);
    if (entry == nullptr) return absl::NotFoundError("no ground truth for video '" + video + "' in " + path);
    return index->GtMap(*entry);
  };
}

void AddGtOptions(Args& args) {
  args.Option("flickr-annotations", "DIR", "Flickr-SoundNet Annotations/ directory (<video>.xml)");
  args.Option("vggss-json", "FILE", "VGG-SS vggss.json");
}

absl::StatusOr<eval::GtLookup> GtLookupFromArgs(const Args& args) {
  if (args.Has("flickr-annotations")) return FlickrLookup(args.Get("flickr-annotations"));
  absl::StatusOr<data::VggssIndex> index = data::VggssIndex::Read(args.Get("vggss-json"));
  if (!index.ok()) return index.status();
  return VggssLookup(std::make_shared<const data::VggssIndex>(*std::move(index)), args.Get("vggss-json"));
}

absl::Status ReadScoringArgs(const Args& args, eval::ScoreOptions& options) {
  options.upsample = args.Get("upsample");
  if (!options.upsample.empty() && options.upsample != "nearest" && options.upsample != "bilinear" &&
      options.upsample != "bicubic") {
    return absl::InvalidArgumentError("--upsample: expected nearest, bilinear or bicubic, found '" +
                                      options.upsample + "'");
  }
  const std::string align = args.Get("align-corners", "true");
  if (align != "true" && align != "false") {
    return absl::InvalidArgumentError("--align-corners: expected true or false");
  }
  options.align_corners = align == "true";
  const std::string mode = args.Get("pred-mode", "relative");
  if (mode != "relative" && mode != "absolute") {
    return absl::InvalidArgumentError("--pred-mode: expected relative or absolute");
  }
  options.pred_mode = mode == "relative" ? metrics::PredMode::kRelative : metrics::PredMode::kAbsolute;
  for (auto [name, target] : {std::pair{"abs-threshold", &options.abs_threshold},
                              {"topk", &options.top_percent}, {"gamma", &options.gamma}}) {
    if (args.Has(name) && !absl::SimpleAtod(args.Get(name), target)) {
      return absl::InvalidArgumentError(std::string("--") + name + ": expected a number, found '" +
                                        args.Get(name) + "'");
    }
  }
  return absl::OkStatus();
}

}  // namespace avsl::cli
