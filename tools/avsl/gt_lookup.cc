#include "gt_lookup.h"

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

void AddProtocolOptions(Args& args) {
  args.Option("upsample", "MODE", "nearest|bilinear|bicubic: resize maps that are not 224x224 (default: refuse them)");
  args.Option("align-corners", "BOOL", "align_corners of the upsampling: true (default, as the reference) or false");
  args.Option("pred-mode", "MODE", "relative (per-map min-max + top-k %, default) or absolute (fixed threshold)");
  args.Option("topk-percent", "PERCENT", "relative mode: percent of pixels kept (default 50, the reference rule)");
  args.Option("pred-threshold", "T", "absolute mode: positive = map >= T (default 0.5)");
  args.Option("ciou-threshold", "G", "cIoU threshold of LocAcc and of a true positive (default 0.5)");
  args.Option("bootstrap-resamples", "N",
              "resamples behind the 95 % intervals of metrics.json (default 1000; 0: none)");
}

absl::Status ReadProtocolArgs(const Args& args, metrics::EvalProtocol& protocol) {
  if (args.Has("upsample")) {
    absl::StatusOr<metrics::UpsampleMode> mode = metrics::ParseUpsampleMode(args.Get("upsample"));
    if (!mode.ok()) {
      return absl::InvalidArgumentError("--upsample: expected nearest, bilinear or bicubic, found '" +
                                        args.Get("upsample") + "'");
    }
    protocol.upsample = *mode;
  }
  if (args.Has("align-corners")) {
    const std::string align = args.Get("align-corners");
    if (align != "true" && align != "false")
      return absl::InvalidArgumentError("--align-corners: expected true or false");
    protocol.align_corners = align == "true";
  }
  if (args.Has("pred-mode")) {
    absl::StatusOr<metrics::PredMode> mode = metrics::ParsePredMode(args.Get("pred-mode"));
    if (!mode.ok()) return absl::InvalidArgumentError("--pred-mode: expected relative or absolute");
    protocol.pred_mode = *mode;
  }
  for (auto [name, target] : {std::pair{"pred-threshold", &protocol.pred_threshold},
                              {"topk-percent", &protocol.topk_percent},
                              {"ciou-threshold", &protocol.ciou_threshold}}) {
    if (args.Has(name) && !absl::SimpleAtod(args.Get(name), target)) {
      return absl::InvalidArgumentError(std::string("--") + name + ": expected a number, found '" + args.Get(name) +
                                        "'");
    }
  }
  if (args.Has("bootstrap-resamples")) {
    int n = 0;
    if (!absl::SimpleAtoi(args.Get("bootstrap-resamples"), &n) || n < 0 || n > 1000000) {
      return absl::InvalidArgumentError("--bootstrap-resamples: expected an integer in [0, 1000000], found '" +
                                        args.Get("bootstrap-resamples") + "'");
    }
    protocol.bootstrap_resamples = n;
  }
  return absl::OkStatus();
}

}  // namespace avsl::cli
