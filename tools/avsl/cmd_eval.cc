// avsl eval: evaluates a trained run (or a checkpoint file) on a dataset split of its recipe.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "avsl/cli_common.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/core/method.h"
#include "avsl/io/npy.h"
#include "avsl/train/map_evaluation.h"
#include "avsl/train/overlay_collector.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/run_report.h"
#include "avsl/train/training_checkpoint.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

struct Target {
  std::string recipe_text;
  std::string origin;
  std::string checkpoint;
  std::string out_dir;
};

// RUN_DIR: its recipe.toml and checkpoints/<name>.pt, where the default name follows train.select.
absl::StatusOr<Target> Resolve(const std::string& what, const std::string& checkpoint_name, const std::string& split,
                               const std::string& out_dir) {
  Target t;
  if (fs::is_directory(what)) {
    const fs::path recipe = fs::path(what) / "recipe.toml";
    if (!fs::exists(recipe)) return absl::NotFoundError(what + " is not a run directory (no recipe.toml)");
    std::ifstream in(recipe);
    t.recipe_text.assign(std::istreambuf_iterator<char>(in), {});
    t.origin = recipe.string();
    std::string name = checkpoint_name;
    if (name.empty()) {
      // The run's own selection: the best checkpoint when it exists, else last.
      name = "last";
      for (const auto& entry : fs::directory_iterator(fs::path(what) / "checkpoints"))
        if (entry.path().filename().string().rfind("best_", 0) == 0 && entry.path().extension() == ".pt")
          name = entry.path().stem().string();
    }
    t.checkpoint = (fs::path(what) / "checkpoints" / (name + ".pt")).string();
    t.out_dir = out_dir.empty() ? (fs::path(what) / "eval" / (split + "_" + name)).string() : out_dir;
    return t;
  }
  absl::StatusOr<std::string> text = train::ReadCheckpointRecipe(what);
  if (!text.ok()) return text.status();
  t.recipe_text = *text;
  t.origin = what + " (embedded recipe)";
  t.checkpoint = what;
  t.out_dir = out_dir.empty() ? (fs::path("eval") / (fs::path(what).stem().string() + "_" + split)).string() : out_dir;
  return t;
}

}  // namespace

int RunEval(int argc, char** argv, int first) {
  Args args("avsl eval RUN_DIR|CKPT [--split test|val] [--checkpoint NAME] [--set KEY=VALUE]... [--maps-dir DIR]",
            "Evaluates a trained model on a split of its recipe with the core metrics and writes metrics.json and\n"
            "per_sample.csv (default: RUN_DIR/eval/<split>_<checkpoint>/). --set changes the recipe, e.g. to point\n"
            "data.test at another dataset or to change the eval.* options.");
  args.Positional("RUN", "run directory or checkpoint file (.pt written by avsl train)");
  args.Option("split", "NAME", "test (default) or val");
  args.Option("checkpoint", "NAME", "checkpoint of a run directory: last, best_<metric> (default: the run's best)");
  args.Option("out", "DIR", "output directory");
  args.Option("maps-dir", "DIR", "also write every map (224x224 float32 .npy, named by sample key)");
  args.Option("vis-count", "N", "heatmap overlays written to <out>/overlays (default: the recipe's eval.visualize)");
  args.Option("export-pt", "FILE", "also write the model's weights as a state_dict Python reads with torch.load");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  const std::string split = args.Get("split", "test");
  if (split != "test" && split != "val") {
    std::cerr << "avsl eval: --split: expected test or val, found '" << split << "'\n\n" << args.Usage();
    return kExitUsage;
  }
  absl::StatusOr<Target> target = Resolve(args.Positional(0), args.Get("checkpoint"), split, args.Get("out"));
  if (!target.ok()) return ReportError("eval", target.status());
  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  absl::StatusOr<Recipe> recipe = Recipe::Parse(target->recipe_text, target->origin, ".", args.GetAll("set"));
  if (!recipe.ok()) return ReportError("eval", recipe.status());
  if (absl::Status s = recipe->Validate(*host); !s.ok()) return ReportError("eval", s);
  const ComponentConfig root = recipe->Root();

  absl::StatusOr<train::Runtime> runtime = train::ApplyRuntime(root);
  if (!runtime.ok()) return ReportError("eval", runtime.status());
  absl::StatusOr<std::shared_ptr<Method>> method = host->registry().Build<Method>(root.Sub("model"));
  if (!method.ok()) return ReportError("eval", method.status());
  (*method)->to(runtime->device);
  if (absl::Status s = train::LoadMethodWeights(target->checkpoint, **method); !s.ok()) return ReportError("eval", s);
  absl::StatusOr<std::unique_ptr<data::Loader>> loader =
      train::BuildLoader(root, split, /*train=*/false, runtime->seed, host->registry());
  if (!loader.ok()) return ReportError("eval", loader.status());
  if (*loader == nullptr) {
    return ReportError("eval", absl::NotFoundError("the recipe has no data." + split +
                                                   " dataset (add one with --set or in the recipe)"));
  }
  eval::ScoreOptions described;
  absl::StatusOr<train::MapEvaluationOptions> options = train::BuildEvalOptions(root, &described);
  if (!options.ok()) return ReportError("eval", options.status());
  std::string confidence;
  options->confidence_out = &confidence;
  long long vis_count = root.Sub("eval").GetInt("visualize");
  if (args.Has("vis-count") && !absl::SimpleAtoi(args.Get("vis-count"), &vis_count)) {
    std::cerr << "avsl eval: --vis-count: expected an integer\n";
    return kExitUsage;
  }
  viz::OverlayOptions overlay;
  overlay.pred_mode = options->evaluator.pred_mode;
  overlay.top_percent = options->evaluator.top_percent;
  overlay.abs_threshold = options->evaluator.abs_threshold;
  train::OverlayCollector overlays(static_cast<int>(vis_count), overlay);
  const std::string maps_dir = args.Get("maps-dir");
  if (!maps_dir.empty()) fs::create_directories(maps_dir);
  options->on_sample = [&](const Sample& s, const Map2D& map, double conf) -> absl::Status {
    overlays.Add(s, map, conf);
    if (maps_dir.empty()) return absl::OkStatus();
    return io::WriteNpy((fs::path(maps_dir) / (s.key + ".npy")).string(), map.values.data(), {map.height, map.width});
  };
  absl::StatusOr<metrics::EvalResult> result =
      train::EvaluateMethod(**method, **loader, 0, runtime->device, *options);
  if (!result.ok()) return ReportError("eval", result.status());
  absl::StatusOr<std::vector<std::shared_ptr<Metric>>> extra = train::BuildExtraMetrics(root, host->registry());
  if (!extra.ok()) return ReportError("eval", extra.status());
  if (absl::Status s = train::WriteEvaluation(target->out_dir, *result, described, confidence,
                                              train::ComputeExtraMetrics(*extra, *result));
      !s.ok()) {
    return ReportError("eval", s);
  }
  absl::StatusOr<std::vector<std::string>> pictures =
      overlays.Write((fs::path(target->out_dir) / "overlays").string(), *result);
  if (!pictures.ok()) return ReportError("eval", pictures.status());
  if (args.Has("export-pt")) {
    if (absl::Status s = checkpoint::SaveStateDictForPython(args.Get("export-pt"), checkpoint::ModuleStateDict(**method));
        !s.ok()) {
      return ReportError("eval", s);
    }
    std::cout << "weights for torch.load: " << args.Get("export-pt") << "\n";
  }
  if (!pictures->empty()) std::cout << "overlays: " << pictures->size() << " in " << target->out_dir << "/overlays\n";
  std::cout << "checkpoint: " << target->checkpoint << "\nconfidence: " << confidence << "\n"
            << eval::FormatMetricsTable(*result) << "metrics: " << target->out_dir << "/metrics.json\n";
  return kExitOk;
}

}  // namespace avsl::cli
