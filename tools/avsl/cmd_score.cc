// avsl score: scores .npy maps written by any tool against Flickr-SoundNet or VGG-SS ground truth.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "avsl/eval/score.h"
#include "avsl/viz/score_overlays.h"
#include "cli_common.h"
#include "gt_lookup.h"

namespace avsl::cli {

int RunScore(int argc, char** argv, int first) {
  Args args("avsl score --maps DIR --index CSV (--flickr-annotations DIR | --vggss-json FILE) [options]",
            "Scores localization maps written by any tool. Each index row names a map <key>.npy (H x W float32 or\n"
            "float64); sounding rows are compared with the ground truth of their video, silent rows count only\n"
            "through their confidence (AP, max-F1). Without a conf column, confidence is computed from the map.\n"
            "See docs/evaluation.md for every number's definition.");
  args.Option("maps", "DIR", "directory of <key>.npy maps");
  args.Option("index", "CSV", "header key,video,audio,sounding[,conf]");
  AddGtOptions(args);
  AddProtocolOptions(args);
  args.Option("out", "FILE", "write metrics.json here");
  args.Option("per-sample", "CSV", "write key,ciou,conf,sounding,bucket,... rows here");
  args.Option("vis-dir", "DIR", "write heatmap overlays <key>.png here (see docs/evaluation.md, Pictures)");
  args.Option("vis-count", "N", "overlays for the first N sounding and N/4 silent index rows (default 16)");
  args.Option("frames", "DIR", "frames/<video>.jpg drawn under the overlays (default: grey)");
  args.Option("threads", "N",
              "threads scoring maps (default: every hardware thread; the bootstrap intervals use them all);\n"
              "results are the same for any N");
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
  if (absl::Status s = ReadProtocolArgs(args, options.protocol); !s.ok()) return usage(std::string(s.message()));
  options.out_json = args.Get("out");
  options.per_sample_csv = args.Get("per-sample");
  if (args.Has("threads") && (!absl::SimpleAtoi(args.Get("threads"), &options.threads) || options.threads < 1)) {
    return usage("--threads: expected a positive integer, found '" + args.Get("threads") + "'");
  }

  viz::ScoreVisOptions vis;
  vis.out_dir = args.Get("vis-dir");
  vis.frames_dir = args.Get("frames");
  if (args.Has("vis-count")) {
    int n = 0;
    if (!absl::SimpleAtoi(args.Get("vis-count"), &n) || n < 0) {
      return usage("--vis-count: expected a non-negative integer, found '" + args.Get("vis-count") + "'");
    }
    vis.count = n;
  }
  if (vis.out_dir.empty() && (args.Has("vis-count") || args.Has("frames"))) {
    return usage("--vis-count and --frames need --vis-dir");
  }

  absl::StatusOr<eval::GtLookup> lookup = GtLookupFromArgs(args);
  if (!lookup.ok()) return ReportError("score", lookup.status());
  absl::StatusOr<metrics::EvalResult> result = eval::RunScore(options, *lookup);
  if (!result.ok()) return ReportError("score", result.status());
  std::cout << eval::FormatMetricsTable(*result);
  if (!options.out_json.empty()) std::cout << "metrics: " << options.out_json << "\n";
  if (!options.per_sample_csv.empty()) std::cout << "per-sample: " << options.per_sample_csv << "\n";
  if (!vis.out_dir.empty()) {
    absl::StatusOr<std::vector<std::string>> pictures = viz::WriteScoreOverlays(options, vis, *lookup, *result);
    if (!pictures.ok()) return ReportError("score", pictures.status());
    std::cout << "overlays: " << pictures->size() << " PNG in " << vis.out_dir << "\n";
  }
  return kExitOk;
}

}  // namespace avsl::cli
