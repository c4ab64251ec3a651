// avsl score: scores .npy maps written by any tool against Flickr-SoundNet or VGG-SS ground truth.
#include <filesystem>
#include <iostream>

#include "absl/strings/numbers.h"
#include "avsl/cli_common.h"
#include "avsl/data/flickr_annotation.h"
#include "avsl/data/vggss_annotation.h"
#include "avsl/eval/score.h"

namespace avsl::cli {
namespace {

absl::StatusOr<double> ParseNumber(const Args& args, const std::string& name, double fallback) {
  if (!args.Has(name)) return fallback;
  double v = 0;
  if (!absl::SimpleAtod(args.Get(name), &v)) {
    return absl::InvalidArgumentError("--" + name + ": expected a number, found '" + args.Get(name) + "'");
  }
  return v;
}

// Flickr: Annotations/<video>.xml, read when first needed (a test set touches each file once).
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

}  // namespace

int RunScore(int argc, char** argv, int first) {
  Args args("avsl score --maps DIR --index CSV (--flickr-annotations DIR | --vggss-json FILE) [options]",
            "Scores localization maps written by any tool. Each index row names a map <key>.npy (H x W float32 or\n"
            "float64); sounding rows are compared with the ground truth of their video, silent rows count only\n"
            "through their confidence (AP, max-F1). Without a conf column, confidence is computed from the map.\n"
            "See docs/evaluation.md for every number's definition.");
  args.Option("maps", "DIR", "directory of <key>.npy maps");
  args.Option("index", "CSV", "header key,video,audio,sounding[,conf]");
  args.Option("flickr-annotations", "DIR", "Flickr-SoundNet Annotations/ directory (<video>.xml)");
  args.Option("vggss-json", "FILE", "VGG-SS vggss.json");
  args.Option("pred-mode", "MODE", "relative (per-map min-max + top-k %, default) or absolute (fixed threshold)");
  args.Option("upsample", "MODE", "nearest|bilinear|bicubic: accept maps that are not 224x224 and resize them");
  args.Option("align-corners", "BOOL", "align_corners of the upsampling: true (default, as the reference) or false");
  args.Option("abs-threshold", "T", "threshold in absolute mode (default 0.5)");
  args.Option("topk", "PERCENT", "relative mode: percent of pixels kept (default 50, the reference rule)");
  args.Option("gamma", "G", "cIoU threshold of LocAcc and of a true positive (default 0.5)");
  args.Option("out", "FILE", "write metrics.json here");
  args.Option("per-sample", "CSV", "write key,ciou,conf,sounding,bucket,... rows here");
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;

  auto usage = [&](const std::string& message) {
    std::cerr << "avsl score: " << message << "\n\n" << args.Usage();
    return kExitUsage;
  };
  if (!args.Has("maps") || !args.Has("index")) return usage("--maps and --index are required");
  if (args.Has("flickr-annotations") == args.Has("vggss-json")) {
    return usage("give exactly one of --flickr-annotations and --vggss-json");
  }
  eval::ScoreOptions options;
  options.maps_dir = args.Get("maps");
  options.index_csv = args.Get("index");
  options.upsample = args.Get("upsample");
  if (!options.upsample.empty() && options.upsample != "nearest" && options.upsample != "bilinear" &&
      options.upsample != "bicubic") {
    return usage("--upsample: expected nearest, bilinear or bicubic, found '" + options.upsample + "'");
  }
  const std::string align = args.Get("align-corners", "true");
  if (align != "true" && align != "false") return usage("--align-corners: expected true or false");
  options.align_corners = align == "true";
  const std::string mode = args.Get("pred-mode", "relative");
  if (mode != "relative" && mode != "absolute") return usage("--pred-mode: expected relative or absolute");
  options.pred_mode = mode == "relative" ? metrics::PredMode::kRelative : metrics::PredMode::kAbsolute;
  for (auto [name, target, fallback] : {std::make_tuple("abs-threshold", &options.abs_threshold, 0.5),
                                        std::make_tuple("topk", &options.top_percent, 50.0),
                                        std::make_tuple("gamma", &options.gamma, 0.5)}) {
    absl::StatusOr<double> v = ParseNumber(args, name, fallback);
    if (!v.ok()) return usage(std::string(v.status().message()));
    *target = *v;
  }
  options.out_json = args.Get("out");
  options.per_sample_csv = args.Get("per-sample");

  eval::GtLookup lookup;
  if (args.Has("flickr-annotations")) {
    lookup = FlickrLookup(args.Get("flickr-annotations"));
  } else {
    absl::StatusOr<data::VggssIndex> index = data::VggssIndex::Read(args.Get("vggss-json"));
    if (!index.ok()) return ReportError("score", index.status());
    lookup = VggssLookup(std::make_shared<const data::VggssIndex>(*std::move(index)), args.Get("vggss-json"));
  }
  absl::StatusOr<metrics::EvalResult> result = eval::RunScore(options, lookup);
  if (!result.ok()) return ReportError("score", result.status());
  std::cout << eval::FormatMetricsTable(*result);
  if (!options.out_json.empty()) std::cout << "metrics: " << options.out_json << "\n";
  if (!options.per_sample_csv.empty()) std::cout << "per-sample: " << options.per_sample_csv << "\n";
  return kExitOk;
}

}  // namespace avsl::cli
