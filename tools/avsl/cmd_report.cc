// avsl report RUN_DIR...: the seed paper's Table 1/2 (Early Stop / No Early Stop) from run directories.
// avsl report grid: several runs' maps side by side on the same samples, grouped by GT size bucket (the seed
// paper's Figures 2–5).
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "avsl/eval/results_table.h"
#include "avsl/io/run_dir.h"
#include "avsl/viz/png_writer.h"
#include "avsl/viz/run_grid.h"
#include "cli_common.h"
#include "grid_file.h"
#include "grid_html.h"
#include "grid_report.h"
#include "gt_lookup.h"

namespace avsl::cli {
namespace {

int PictureGrid(const Args& args, const std::function<int(const std::string&)>& usage) {
  if (!args.Has("run")) return usage("grid needs at least one --run LABEL=MAPS_DIR");
  if (!args.Has("index") || !args.Has("out")) return usage("grid needs --index and --out");
  if (args.Has("flickr-annotations") == args.Has("vggss-json")) {
    return usage("give exactly one of --flickr-annotations and --vggss-json");
  }
  viz::RunGridOptions options;
  for (const std::string& run : args.GetAll("run")) {
    const size_t eq = run.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == run.size()) {
      return usage("--run: expected LABEL=MAPS_DIR, found '" + run + "'");
    }
    options.runs.push_back({run.substr(0, eq), run.substr(eq + 1)});
  }
  options.index_csv = args.Get("index");
  options.frames_dir = args.Get("frames");
  for (auto [name, target] : {std::pair{"per-bucket", &options.per_bucket}, {"tile-size", &options.overlay.size}}) {
    if (!args.Has(name)) continue;
    if (!absl::SimpleAtoi(args.Get(name), target) || *target <= 0) {
      return usage(std::string("--") + name + ": expected a positive integer, found '" + args.Get(name) + "'");
    }
  }
  options.include_silent = !args.Has("no-silent");
  if (absl::Status s = ReadProtocolArgs(args, options.scoring.protocol); !s.ok())
    return usage(std::string(s.message()));

  absl::StatusOr<eval::GtLookup> lookup = GtLookupFromArgs(args);
  if (!lookup.ok()) return ReportError("report grid", lookup.status());
  absl::StatusOr<data::RgbImage> grid = viz::RenderRunGrid(options, *lookup);
  if (!grid.ok()) return ReportError("report grid", grid.status());
  if (absl::Status s = viz::WritePng(args.Get("out"), *grid); !s.ok()) return ReportError("report grid", s);
  std::cout << "grid: " << args.Get("out") << " (" << grid->width << "x" << grid->height << ", " << options.runs.size()
            << " runs)\n";
  return kExitOk;
}

// `LABEL=RUN_DIR` names a row; a bare RUN_DIR takes its recipe's name. Runs with one label are seeds of a row.
int Table(int argc, char** argv, int first) {
  Args args("avsl report RUN_DIR|LABEL=RUN_DIR... [--split test] [--columns ap,max_f1,loc_acc] [--out FILE]\n"
            "       avsl report GRID.toml [--split NAME] [--columns ...] [--out FILE]",
            "Renders a Markdown results table in the seed paper's Table 1/2 layout from run directories written by\n"
            "'avsl train' (or completed by 'avsl eval RUN_DIR'): one row per method label, the metrics of the\n"
            "early-stopped checkpoint (Early Stop) beside those of the last epoch (No Early Stop). Runs sharing a\n"
            "label (seeds) are averaged: mean ± sample standard deviation, with the number of runs. Runs evaluated\n"
            "with 'avsl eval RUN_DIR --untrained' add an Untrained group: the same recipe at step 0, the control.\n"
            "Given a grid file ('avsl grid'), the tables of its done cells: one per row group and split (test, then\n"
            "each [[eval]] name, or only --split), the cells not done listed below them.\n"
            "For the picture grid of several runs' maps see 'avsl report grid --help'.");
  args.RepeatedPositional("RUN_DIR...", "run directories, optionally LABEL=RUN_DIR (default label: the recipe's name)");
  args.Option("split", "NAME", "which evaluation to read: eval/<NAME>_last, eval/<NAME>_best_* (default test)");
  args.Option(
      "columns", "LIST",
      "comma-separated metrics.json keys (default ap,max_f1,loc_acc; also auc, "
      "pointing, ap_ref, max_f1_ref, mean_ciou, audio_dependence, and after 'avsl eval --negative-audio' "
      "neg_<kind>_ap, neg_<kind>_max_f1, neg_<kind>_peak_moved for kind silence, noise, offscreen; ciou_adaptive, "
      "auc_adaptive, iiou, iiou_adaptive, iauc, iauc_adaptive)");
  args.Flag("no-untrained", "leave out the Untrained column group (shown when a run has eval/<split>_untrained from "
                            "'avsl eval RUN_DIR --untrained')");
  args.Flag("ci", "after the value of a single-run row, its bootstrap 95 % interval over the test samples, "
                  "\"31.0 [28.1, 34.0]\" (metrics.json \"ci95\", eval.bootstrap_resamples)");
  args.Option("out", "FILE", "write the table there as well as to stdout");
  args.Option("html", "FILE",
              "with a grid file: also write a self-contained HTML report (tables, published numbers, every cell's "
              "training curve, qualitative rows by object size)");
  args.Option("per-bucket", "N", "with --html: qualitative rows per object-size bucket (default 3)");
  args.Option("grid-dir", "DIR", "with a grid file: where its cells are, when 'avsl grid --output-dir DIR' put them");
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;

  eval::ResultsTableOptions options;
  if (args.Has("split")) options.split = args.Get("split");
  if (args.Has("columns")) options.columns = absl::StrSplit(args.Get("columns"), ',', absl::SkipEmpty());
  options.untrained_columns = !args.Has("no-untrained");
  options.intervals = args.Has("ci");
  // A .toml file is a grid (a run directory is a folder): its parse errors are the grid's, not "not a run directory".
  if (args.positional_count() == 1 && std::filesystem::path(args.Positional(0)).extension() == ".toml" &&
      std::filesystem::is_regular_file(args.Positional(0))) {
    absl::StatusOr<Grid> grid = LoadGrid(args.Positional(0), {}, args.Get("grid-dir"));
    if (!grid.ok()) return ReportError("report", grid.status());
    if (!args.Has("columns") && !grid->columns.empty()) options.columns = grid->columns;
    absl::StatusOr<std::string> report = RenderGridReport(*grid, options, !args.Has("split"));
    if (!report.ok()) return ReportError("report", report.status());
    std::cout << *report;
    if (args.Has("out")) {
      if (absl::Status s = io::WriteFileAtomically(args.Get("out"), *report); !s.ok()) return ReportError("report", s);
    }
    if (args.Has("html")) {
      GridHtmlOptions html;
      html.split = options.split;
      if (args.Has("per-bucket") &&
          (!absl::SimpleAtoi(args.Get("per-bucket"), &html.per_bucket) || html.per_bucket < 1)) {
        std::cerr << "avsl report: --per-bucket: expected a positive integer, found '" << args.Get("per-bucket")
                  << "'\n";
        return kExitUsage;
      }
      absl::StatusOr<std::string> page = RenderGridHtml(*grid, *report, html);
      if (!page.ok()) return ReportError("report", page.status());
      if (absl::Status s = io::WriteFileAtomically(args.Get("html"), *page); !s.ok()) return ReportError("report", s);
      std::cerr << "report: " << args.Get("html") << " (" << page->size() / 1024 << " KiB, self-contained)\n";
    }
    return kExitOk;
  }
  if (args.Has("html")) {
    std::cerr << "avsl report: --html renders a grid file's report (avsl report GRID.toml --html FILE)\n";
    return kExitUsage;
  }
  std::vector<eval::RunResult> results;
  for (const std::string& run : args.Positionals()) {
    const size_t eq = run.find('=');
    const std::string dir = eq == std::string::npos ? run : run.substr(eq + 1);
    absl::StatusOr<eval::RunResult> r = eval::ReadRunResult(dir, options.split);
    if (!r.ok()) return ReportError("report", r.status());
    if (eq != std::string::npos) r->label = run.substr(0, eq);
    results.push_back(*std::move(r));
  }
  absl::StatusOr<std::string> table = eval::RenderResultsTable(results, options);
  if (!table.ok()) return ReportError("report", table.status());
  std::cout << *table;
  if (args.Has("out")) {
    if (absl::Status s = io::WriteFileAtomically(args.Get("out"), *table); !s.ok()) return ReportError("report", s);
  }
  return kExitOk;
}

}  // namespace

int RunReport(int argc, char** argv, int first) {
  if (first >= argc || std::string(argv[first]) != "grid") return Table(argc, argv, first);
  Args args("avsl report grid --run LABEL=MAPS_DIR [--run ...] --index CSV "
            "(--flickr-annotations DIR | --vggss-json FILE) --out grid.png [options]",
            "grid: a PNG with one row per sample and one column per run (plus a 'frame + GT' column), rows grouped\n"
            "by GT size bucket (small, medium, large, huge) and a silent section. Each tile is the run's map as a\n"
            "JET heatmap over the frame, the GT contour (green), the scored binary prediction's contour (white)\n"
            "and the run's cIoU and confidence. Samples: the first --per-bucket rows of each bucket, in index order.\n"
            "Results tables from run directories: 'avsl report RUN_DIR...'.");
  args.Positional("ACTION", "grid");
  args.Option("run", "LABEL=MAPS_DIR", "a column: its header and its directory of <key>.npy maps", true);
  args.Option("index", "CSV", "the avsl score index (key,video,audio,sounding[,conf]) shared by the runs");
  AddGtOptions(args);
  args.Option("frames", "DIR", "frames/<video>.jpg drawn under the maps (default: grey)");
  args.Option("per-bucket", "N", "rows per size bucket and for the silent section (default 3)");
  args.Flag("no-silent", "leave out the silent section");
  args.Option("tile-size", "PX", "side of each tile's picture (default 160)");
  args.Option("out", "FILE", "the PNG to write");
  AddProtocolOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  auto usage = [&](const std::string& message) {
    std::cerr << "avsl report grid: " << message << "\n\n" << args.Usage();
    return kExitUsage;
  };
  return PictureGrid(args, usage);
}

}  // namespace avsl::cli
