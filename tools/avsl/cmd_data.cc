// avsl data check: reads every item of every split of a recipe (decoded, as training would) and says which files are
// missing or corrupt, before a run finds them.
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/data/dataset_check.h"
#include "avsl/io/atomic_file.h"
#include "cli_common.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

constexpr size_t kListed = 20;  // problems printed per split and kind; --out has them all

// Prints the first kListed problems of one kind and writes all of them to <out>/<split>_<kind>.txt.
absl::Status Report(const std::string& split, const char* kind, const std::vector<data::DatasetProblem>& problems,
                    const std::string& out_dir) {
  if (problems.empty()) return absl::OkStatus();
  for (size_t i = 0; i < problems.size() && i < kListed; ++i) {
    std::cout << "  " << kind << ": " << problems[i].error << "\n";
  }
  std::string all;
  for (const data::DatasetProblem& p : problems) absl::StrAppend(&all, p.item, "\t", p.error, "\n");
  if (out_dir.empty()) {
    if (problems.size() > kListed) {
      std::cout << "  ... " << problems.size() - kListed << " more " << kind << " (--out DIR writes every one)\n";
    }
    return absl::OkStatus();
  }
  const std::string file = (fs::path(out_dir) / (split + "_" + kind + ".txt")).string();
  if (problems.size() > kListed) {
    std::cout << "  ... " << problems.size() - kListed << " more " << kind << " in " << file << "\n";
  }
  return io::WriteFileAtomically(file, all);
}

}  // namespace

int RunData(int argc, char** argv, int first) {
  Args args("avsl data check RECIPE [--split NAME]... [--threads N] [--out DIR] [--set KEY=VALUE]...",
            "Reads every item of the recipe's splits (data.train, data.val, data.test, or those named by --split) the\n"
            "way training and evaluation read them: each frame and clip is decoded, each annotation parsed, so a\n"
            "truncated JPEG or WAV is found, not only a missing one. Per split: the items its lists name, how many\n"
            "are usable, and the missing and the corrupt ones (the first 20 of each; --out DIR writes every one to\n"
            "DIR/<split>_missing.txt and DIR/<split>_corrupt.txt). A split whose lists or annotations cannot be read\n"
            "is reported with the reason. Exit status 0 only when every listed item of every split is usable.");
  args.Positional("ACTION", "check").Positional("RECIPE", "recipe file (or a shipped recipe: @avsl/...)", false);
  args.Option("split", "NAME", "train, val or test (repeatable; default: every split the recipe has)",
              /*repeatable=*/true);
  args.Option("threads", "N", "threads decoding items (default: all cores)");
  args.Option("out", "DIR", "write the full lists of problems here (created)");
  args.Flag("verbose", "print full C++ stack traces of errors");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  const bool verbose = args.Has("verbose");
  if (args.Positional(0) != "check") {
    std::cerr << "avsl data: unknown action '" << args.Positional(0) << "'\n\n" << args.Usage();
    return kExitUsage;
  }
  if (args.Positional(1).empty()) {
    std::cerr << "avsl data check: missing argument RECIPE\n\n" << args.Usage();
    return kExitUsage;
  }
  std::vector<std::string> splits = args.GetAll("split");
  for (const std::string& s : splits) {
    if (s != "train" && s != "val" && s != "test") {
      std::cerr << "avsl data check: --split: expected train, val or test, found '" << s << "'\n\n" << args.Usage();
      return kExitUsage;
    }
  }
  int threads = 0;
  if (args.Has("threads") && (!absl::SimpleAtoi(args.Get("threads"), &threads) || threads < 1)) {
    std::cerr << "avsl data check: --threads: expected a positive integer, found '" << args.Get("threads") << "'\n";
    return kExitUsage;
  }
  const std::string out_dir = args.Get("out");
  if (!out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) return ReportError("data check", absl::UnavailableError("cannot create " + out_dir + ": " + ec.message()));
  }
  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  absl::StatusOr<Recipe> recipe = LoadRecipe(args.Positional(1), args, *host);
  if (!recipe.ok()) return ReportError("data check", recipe.status(), verbose);
  const ComponentConfig data = recipe->Root().Sub("data");
  if (splits.empty()) {
    for (const char* s : {"train", "val", "test"})
      if (data.Has(s)) splits.push_back(s);
  }
  size_t items = 0, problems = 0, broken_splits = 0;
  for (const std::string& split : splits) {
    if (!data.Has(split)) {
      std::cout << split << ": the recipe has no data." << split << "\n";
      ++broken_splits;
      continue;
    }
    absl::StatusOr<std::shared_ptr<Dataset>> dataset = host->registry().Build<Dataset>(data.Sub(split));
    if (!dataset.ok()) {
      std::cout << split << ": cannot be read: " << WithPluginHint(dataset.status(), *host).message() << "\n";
      ++broken_splits;
      continue;
    }
    const data::DatasetCheck check = data::CheckDataset(**dataset, threads);
    items += check.listed;
    problems += check.missing.size() + check.corrupt.size();
    std::cout << split << " (" << data.Sub(split).type() << "): " << check.listed << " listed, " << check.usable()
              << " usable";
    if (!check.missing.empty()) std::cout << ", " << check.missing.size() << " missing";
    if (!check.corrupt.empty()) std::cout << ", " << check.corrupt.size() << " corrupt or unreadable";
    std::cout << "\n";
    for (const auto& [kind, list] :
         {std::pair<const char*, const std::vector<data::DatasetProblem>*>{"missing", &check.missing},
          {"corrupt", &check.corrupt}}) {
      if (absl::Status s = Report(split, kind, *list, out_dir); !s.ok()) return ReportError("data check", s, verbose);
    }
  }
  if (problems == 0 && broken_splits == 0) {
    std::cout << "data check: all " << items << " items of " << splits.size() << " split(s) are usable\n";
    return kExitOk;
  }
  std::cout << "data check: " << problems << " unusable item(s) of " << items;
  if (broken_splits > 0) std::cout << ", " << broken_splits << " split(s) that cannot be read";
  std::cout << "\n";
  return 1;
}

}  // namespace avsl::cli
