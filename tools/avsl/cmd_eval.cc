// avsl eval: evaluates a trained run (or a checkpoint file) on a dataset split of its recipe; or a recipe's model
// with weights its authors released (--weights).
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/method.h"
#include "avsl/eval/test_set.h"
#include "avsl/io/npy.h"
#include "avsl/train/evaluate_checkpoint.h"
#include "avsl/train/map_evaluation.h"
#include "avsl/train/overlay_collector.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/released_weights.h"
#include "avsl/train/run_report.h"
#include "cli_common.h"
#include "run_plugins.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

struct Target {
  std::string recipe_text;
  std::string origin;
  std::string run_dir;     ///< the run the checkpoint belongs to, when there is one
  std::string checkpoint;  ///< empty until the recipe is known (a run directory's selected checkpoint)
};

// The run directory that holds `checkpoint` (RUN/checkpoints/<name>.pt with RUN/recipe.toml), or "".
std::string RunDirOf(const fs::path& checkpoint) {
  const fs::path dir = checkpoint.parent_path();
  if (dir.filename() != "checkpoints") return "";
  std::error_code ec;
  return fs::exists(dir.parent_path() / "recipe.toml", ec) ? dir.parent_path().string() : "";
}

// RUN_DIR: its recipe.toml (the checkpoint is chosen once the recipe is parsed); CKPT: its embedded recipe.
// RECIPE (with --weights): loaded as `avsl train` loads it, its `base` files found next to it.
absl::StatusOr<Target> ResolveRecipe(const std::string& path) {
  std::error_code ec;
  if (path.rfind('@', 0) != 0 && !fs::is_regular_file(path, ec)) {  // @avsl/...: a shipped recipe, found by Load
    return absl::NotFoundError(absl::StrCat("recipe ", path, " not found (with --weights, RUN is a recipe file)"));
  }
  Target t;
  t.origin = path;
  return t;
}

absl::StatusOr<Target> Resolve(const std::string& what) {
  Target t;
  if (fs::is_directory(what)) {
    const fs::path recipe = fs::path(what) / "recipe.toml";
    if (!fs::exists(recipe)) return absl::NotFoundError(what + " is not a run directory (no recipe.toml)");
    std::ifstream in(recipe);
    t.recipe_text.assign(std::istreambuf_iterator<char>(in), {});
    t.origin = recipe.string();
    t.run_dir = what;
    return t;
  }
  absl::StatusOr<std::string> text = checkpoint::ReadCheckpointRecipe(what);
  if (!text.ok()) return text.status();
  t.recipe_text = *text;
  t.origin = what + " (embedded recipe)";
  t.checkpoint = what;
  t.run_dir = RunDirOf(fs::path(what));
  return t;
}

// --negative-audio KINDS: "all" or a comma-separated subset of metrics::NegativeAudioKinds(); "" on success.
std::string ParseNegativeAudio(const std::string& text, std::vector<std::string>* kinds) {
  const std::vector<std::string>& known = metrics::NegativeAudioKinds();
  if (text == "all") {
    *kinds = known;
    return "";
  }
  for (absl::string_view k : absl::StrSplit(text, ',')) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      return absl::StrCat("--negative-audio: unknown kind '", k, "'; expected all or a comma-separated list of ",
                          absl::StrJoin(known, ", "));
    }
    kinds->emplace_back(k);
  }
  return "";
}

// The override that makes the split's dataset append the negative-audio samples.
std::string NegativeAudioOverride(const std::string& split, const std::vector<std::string>& kinds) {
  std::vector<std::string> quoted;
  for (const std::string& k : kinds) quoted.push_back("\"" + k + "\"");
  return absl::StrCat("data.", split, ".negative_audio=[", absl::StrJoin(quoted, ", "), "]");
}

void PrintNegativeAudio(const metrics::NegativeAudioResult& r) {
  for (const std::string& kind : metrics::NegativeAudioKinds()) {
    auto it = r.kinds.find(kind);
    if (it == r.kinds.end()) continue;
    const metrics::NegativeAudioKindResult& k = it->second;
    std::cout << absl::StrFormat(
        "negative audio %-9s: AP %.4f  max-F1 %.4f (sounding vs %d %s clips); confidence median %.4f [p10 %.4f, "
        "p90 %.4f] vs sounding %.4f; map peak moves on %d of %d frames\n",
        kind, k.ap, k.max_f1, k.n, kind, k.confidence.median, k.confidence.p10, k.confidence.p90, r.sounding.median,
        k.peak_moved, k.pairs);
  }
}

}  // namespace

int RunEval(int argc, char** argv, int first) {
  Args args(
      "avsl eval RUN_DIR|CKPT [--split test|val] [--checkpoint NAME | --untrained] [--set KEY=VALUE]... "
      "[--maps-dir DIR] [--out DIR]\n       avsl eval RECIPE --weights FILE [--split test|val] [--set KEY=VALUE]... "
      "[--maps-dir DIR] [--out DIR]",
      "Evaluates a trained model on a split of its recipe with the core metrics and writes metrics.json and\n"
      "per_sample.csv (default: RUN_DIR/eval/<split>_<checkpoint>/). --set changes the recipe, e.g. to point\n"
      "data.test at another dataset or to change the eval.* options. The plugins the run's env.json records\n"
      "are loaded after the search path when it does not provide them (one line each on stderr). metrics.json\n"
      "also gets the audio-dependence rate: the fraction of frames whose map peak moves when the sounding clip\n"
      "is replaced by a silent one (extended test splits). --negative-audio scores every positive's frame again\n"
      "with silence, white noise or an off-screen clip: AP and max-F1 of sounding vs each (docs/evaluation.md).\n"
      "With --weights, the recipe's model is built and FILE, a checkpoint as the method's authors released it\n"
      "(torch.save, zip or legacy pre-1.6 format), is loaded into it strictly through the recipe's [weights]\n"
      "table (docs/model_zoo.md); default output: <FILE's folder>/eval_<FILE's stem>_<split>/.");
  args.Positional("RUN", "run directory or checkpoint file (.pt written by avsl train); with --weights, a recipe");
  args.Option("split", "NAME", "test or val (default: the recipe's eval.split, itself test by default)");
  args.Option("checkpoint", "NAME",
              "checkpoint of a run directory: last, best_<metric> (default: the one the run selected by train.select "
              "and train.monitor)");
  args.Option("out", "DIR", "output directory");
  args.Option("maps-dir", "DIR", "also write every map (224x224 float32 .npy, named by sample key)");
  args.Option("vis-count", "N", "heatmap overlays written to <out>/overlays (default: the recipe's eval.visualize)");
  args.Option("export-pt", "FILE", "also write the model's weights as a state_dict Python reads with torch.load");
  args.Option("weights", "FILE",
              "released weights to evaluate with the recipe given as RUN (mapped by its [weights] table)");
  args.Flag("untrained",
            "evaluate the recipe's model at step 0 (the weights avsl train starts from: same seed, no checkpoint) "
            "into <split>_untrained: the control 'avsl report' shows beside the trained results");
  args.Option("negative-audio", "KINDS",
              "also score every positive's frame with its sound replaced: all, or a comma-separated list of silence, "
              "noise, offscreen (sets data.<split>.negative_audio; metrics.json neg_<kind>_ap, ...)");
  args.Flag("verbose", "print full C++ stack traces of errors");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  const bool verbose = args.Has("verbose");
  if (args.Has("split") && args.Get("split") != "test" && args.Get("split") != "val") {
    std::cerr << "avsl eval: --split: expected test or val, found '" << args.Get("split") << "'\n\n" << args.Usage();
    return kExitUsage;
  }
  const bool untrained = args.Has("untrained");
  if (untrained && args.Has("checkpoint")) {
    std::cerr << "avsl eval: --untrained evaluates no checkpoint; leave out --checkpoint\n\n" << args.Usage();
    return kExitUsage;
  }
  const std::string weights = args.Get("weights");
  if (!weights.empty() && (untrained || args.Has("checkpoint"))) {
    std::cerr << "avsl eval: --weights evaluates a recipe with the given file; leave out "
              << (untrained ? "--untrained" : "--checkpoint") << "\n\n"
              << args.Usage();
    return kExitUsage;
  }
  std::vector<std::string> negative_kinds;
  if (args.Has("negative-audio")) {
    if (std::string error = ParseNegativeAudio(args.Get("negative-audio"), &negative_kinds); !error.empty()) {
      std::cerr << "avsl eval: " << error << "\n\n" << args.Usage();
      return kExitUsage;
    }
  }
  absl::StatusOr<Target> target = weights.empty() ? Resolve(args.Positional(0)) : ResolveRecipe(args.Positional(0));
  if (!target.ok()) return ReportError("eval", target.status(), verbose);
  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  if (!target->run_dir.empty()) {
    for (const std::string& line : LoadRecordedPlugins(target->run_dir, *host))
      std::cerr << "avsl eval: " << line << "\n";
  }
  std::vector<std::string> overrides = args.GetAll("set");
  const auto parse = [&] {
    return weights.empty() ? Recipe::Parse(target->recipe_text, target->origin, ".", overrides)
                           : Recipe::Load(target->origin, overrides);  // validated below, once
  };
  absl::StatusOr<Recipe> recipe = parse();
  if (!recipe.ok()) return ReportError("eval", recipe.status(), verbose);
  if (absl::Status s = recipe->Validate(*host); !s.ok()) return ReportError("eval", WithPluginHint(s, *host), verbose);
  // One name per knob: --split overrides the recipe's eval.split (default "test", filled in by Validate).
  const std::string split = args.Has("split") ? args.Get("split") : recipe->Root().Sub("eval").GetString("split");
  if (!negative_kinds.empty()) {
    overrides.push_back(NegativeAudioOverride(split, negative_kinds));
    recipe = parse();
    if (!recipe.ok()) return ReportError("eval", recipe.status(), verbose);
    if (absl::Status s = recipe->Validate(*host); !s.ok()) {
      return ReportError("eval", WithPluginHint(s, *host), verbose);
    }
  }
  const ComponentConfig root = recipe->Root();
  if (target->checkpoint.empty() && weights.empty()) {
    // A run directory: --checkpoint, else the checkpoint the run itself selected (train.select, train.monitor).
    const std::string name = args.Has("checkpoint")
                                 ? args.Get("checkpoint")
                                 : train::SelectedCheckpointName(target->run_dir, root.Sub("train").GetString("select"),
                                                                 root.Sub("train").GetString("monitor"));
    target->checkpoint = (fs::path(target->run_dir) / "checkpoints" / (name + ".pt")).string();
  }
  const std::string weights_file = weights.empty() ? target->checkpoint : weights;
  const std::string stem = untrained ? "untrained" : fs::path(weights_file).stem().string();
  // Under the run's eval/ when the checkpoint belongs to a run, never under the current directory by surprise.
  const std::string out_dir = args.Has("out") ? args.Get("out")
                              : !target->run_dir.empty()
                                  ? (fs::path(target->run_dir) / "eval" / (split + "_" + stem)).string()
                                  : (fs::path(weights_file).parent_path() / ("eval_" + stem + "_" + split)).string();

  absl::StatusOr<train::Runtime> runtime = train::ApplyRuntime(root);
  if (!runtime.ok()) return ReportError("eval", runtime.status(), verbose);
  // The trainer's step-0 model (--untrained evaluates it as it is).
  absl::StatusOr<std::shared_ptr<Method>> method = train::BuildSeededMethod(root, runtime->seed, runtime->device,
                                                                            host->registry());
  if (!method.ok()) return ReportError("eval", WithPluginHint(method.status(), *host), verbose);
  if (!weights.empty()) {
    absl::StatusOr<train::WeightsLayout> layout = train::WeightsLayoutFromRecipe(root);
    if (!layout.ok()) return ReportError("eval", layout.status(), verbose);
    absl::StatusOr<train::ReleasedWeightsLoad> loaded = train::LoadReleasedWeights(weights, *layout, **method);
    if (!loaded.ok()) return ReportError("eval", loaded.status(), verbose);
    std::cout << "weights: " << train::DescribeReleasedWeightsLoad(weights, *loaded) << "\n";
  }
  absl::StatusOr<std::unique_ptr<data::Loader>> loader = train::BuildLoader(root, split, /*train=*/false, runtime->seed,
                                                                            host->registry());
  if (!loader.ok()) return ReportError("eval", WithPluginHint(loader.status(), *host), verbose);
  if (*loader == nullptr) {
    return ReportError(
        "eval",
        absl::NotFoundError("the recipe has no data." + split + " dataset (add one with --set or in the recipe)"),
        verbose);
  }
  train::MapEvaluationOptions options;
  absl::StatusOr<metrics::EvalProtocol> protocol = train::EvalProtocolFromRecipe(root);
  if (!protocol.ok()) return ReportError("eval", protocol.status(), verbose);
  options.protocol = *protocol;
  options.method_name = root.Sub("model").type();
  long long vis_count = root.Sub("eval").GetInt("visualize");
  if (args.Has("vis-count") && !absl::SimpleAtoi(args.Get("vis-count"), &vis_count)) {
    std::cerr << "avsl eval: --vis-count: expected an integer\n";
    return kExitUsage;
  }
  absl::StatusOr<std::vector<std::shared_ptr<Metric>>> extra = train::BuildExtraMetrics(root, host->registry());
  if (!extra.ok()) return ReportError("eval", WithPluginHint(extra.status(), *host), verbose);
  train::CheckpointEvaluation what;
  what.checkpoint = untrained || !weights.empty() ? "" : target->checkpoint;  // --weights: loaded above
  what.out_dir = out_dir;
  what.overlays = static_cast<int>(vis_count);
  what.maps_dir = args.Get("maps-dir");
  what.test_lists = train::SplitListFiles(root, split);
  what.verbose_errors = verbose;
  absl::StatusOr<train::CheckpointEvaluationResult> evaluated = train::EvaluateCheckpoint(
      **method, **loader, runtime->device, options, *extra, what);
  if (!evaluated.ok()) return ReportError("eval", evaluated.status(), verbose);
  if (args.Has("export-pt")) {
    if (absl::Status s = checkpoint::SaveStateDictForPython(args.Get("export-pt"),
                                                            checkpoint::ModuleStateDict(**method));
        !s.ok()) {
      return ReportError("eval", s, verbose);
    }
    std::cout << "weights for torch.load: " << args.Get("export-pt") << "\n";
  }
  if (!evaluated->overlays.empty())
    std::cout << "overlays: " << evaluated->overlays.size() << " in " << out_dir << "/overlays\n";
  std::cout << "checkpoint: "
            << (untrained          ? "none (untrained: step-0 weights of seed " + std::to_string(runtime->seed) + ")"
                : !weights.empty() ? weights + " (released weights)"
                                   : target->checkpoint)
            << "\nconfidence: " << evaluated->confidence << "\ntest set: " << eval::DescribeTestSet(evaluated->test_set)
            << "\n"
            << eval::FormatMetricsTable(evaluated->result);
  const metrics::AudioDependenceResult& dependence = evaluated->audio_dependence;
  if (dependence.pairs > 0) {
    std::cout << "audio-dependence: " << dependence.moved << " of " << dependence.pairs
              << " frames move their map peak between the sounding and the silent clip ("
              << absl::StrFormat("%.4f", dependence.rate()) << ")\n";
  }
  if (const metrics::InteractiveResult& i = evaluated->interactive; i.queries > 0) {
    std::cout << absl::StrFormat("adaptive cIoU %.4f, AUC %.4f (SSLalignment's rule: predicted area = GT area)",
                                 i.ciou_adaptive, i.auc_adaptive);
    if (i.frames > 0) {
      std::cout << absl::StrFormat(
          "; IIoU %.4f (adaptive %.4f), IAUC %.4f over %d frames queried with each object's sound", i.iiou,
          i.iiou_adaptive, i.iauc, i.frames);
    }
    std::cout << "\n";
  }
  PrintNegativeAudio(evaluated->negative_audio);
  std::cout << "metrics: " << out_dir << "/metrics.json\n";
  return kExitOk;
}

}  // namespace avsl::cli
