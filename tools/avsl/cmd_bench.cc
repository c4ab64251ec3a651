// avsl bench data|step: where does a run's time go? `data` times a recipe's loader as the trainer drives it (the
// recipe's workers and batch size, decoding, transforms, collation into the batch tensors); `step` times whole
// training steps through the trainer itself and splits them into phases.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "avsl/train/collate.h"
#include "avsl/train/memory_allocator.h"
#include "avsl/train/precision.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/trainer.h"
#include "cli_common.h"

namespace avsl::cli {
namespace {

using Clock = std::chrono::steady_clock;

// One batch as the trainer waits for it: the loader's next batch, collated into tensors on the device.
absl::StatusOr<size_t> NextBatch(data::Loader& loader, const torch::Device& device) {
  absl::StatusOr<std::optional<data::SampleBatch>> next = loader.Next();
  if (!next.ok()) return next.status();
  if (!next->has_value()) return 0;
  absl::StatusOr<Batch> batch = train::Collate((*next)->samples, device);
  if (!batch.ok()) return batch.status();
  return (*next)->samples.size();
}

int BenchData(const Args& args, const std::function<int(const std::string&)>& usage) {
  const std::string split = args.Get("split", "train");
  if (split != "train" && split != "val" && split != "test") return usage("--split: expected train, val or test");
  long long batches = 20;
  if (args.Has("batches") && (!absl::SimpleAtoi(args.Get("batches"), &batches) || batches < 1)) {
    return usage("--batches: expected a positive integer, found '" + args.Get("batches") + "'");
  }
  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  absl::StatusOr<Recipe> recipe = LoadRecipe(args.Positional(1), args, *host);
  if (!recipe.ok()) return ReportError("bench data", recipe.status());
  const ComponentConfig root = recipe->Root();
  absl::StatusOr<train::Runtime> runtime = train::ApplyRuntime(root);
  if (!runtime.ok()) return ReportError("bench data", runtime.status());
  const bool train = split == "train";
  absl::StatusOr<std::unique_ptr<data::Loader>> loader = train::BuildLoader(root, split, train, runtime->seed,
                                                                            host->registry());
  if (!loader.ok()) return ReportError("bench data", WithPluginHint(loader.status(), *host));
  if (*loader == nullptr) {
    return ReportError("bench data", absl::NotFoundError("the recipe has no data." + split +
                                                         " dataset (add one with --set or in the recipe)"));
  }
  const ComponentConfig data = root.Sub("data");
  absl::StatusOr<train::Precision> precision = train::PrecisionFromRecipe(root, runtime->device);
  if (!precision.ok()) return ReportError("bench data", precision.status());
  std::cout << absl::StrFormat(
      "recipe: %s\nsplit: %s (%d samples, %d batches per epoch)\nthreads: %d (LibTorch intra-op), workers: %d, batch "
      "size: %d\nprecision: %s (applies to the model, not to the loader)\nallocator: %s\n",
      args.Positional(1), split, (*loader)->dataset_size(), (*loader)->batches_per_epoch(), runtime->threads,
      data.GetInt("workers"), data.GetInt(train ? "batch_size" : "eval_batch_size"), precision->description,
      train::DescribeAllocator());
  if (absl::Status s = (*loader)->StartEpoch(0); !s.ok()) return ReportError("bench data", s);
  // The first batch pays for starting the workers and filling their queue: it is not timed.
  absl::StatusOr<size_t> warm = NextBatch(**loader, runtime->device);
  if (!warm.ok()) return ReportError("bench data", warm.status());
  size_t samples = 0;
  long long timed = 0;
  const Clock::time_point start = Clock::now();
  for (uint64_t epoch = 0; timed < batches;) {
    absl::StatusOr<size_t> n = NextBatch(**loader, runtime->device);
    if (!n.ok()) return ReportError("bench data", n.status());
    if (*n == 0) {  // the epoch ended: go on with the next one, as training would
      if (absl::Status s = (*loader)->StartEpoch(++epoch); !s.ok()) return ReportError("bench data", s);
      continue;
    }
    samples += *n;
    ++timed;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << absl::StrFormat("timed: %d batches, %d samples in %.3f s (first batch excluded)\n", timed, samples,
                               seconds);
  std::cout << absl::StrFormat("data: %.1f samples/s\n", static_cast<double>(samples) / seconds);
  return kExitOk;
}

// What `bench step` changes in the recipe so that only steps run: no validation, no final test, no step logs, and
// epochs enough for any --steps (the LR schedule's shape changes with them, not the cost of a step). The user's
// --set come after these and win.
const std::vector<std::string> kStepOnlySettings = {"train.val_every=1000000", "train.test_at_end=false",
                                                    "train.log_every=1000000", "train.epochs=1000000"};

int BenchStep(const Args& args, const std::function<int(const std::string&)>& usage) {
  long long steps = 20, warmup = 3;
  if (args.Has("steps") && (!absl::SimpleAtoi(args.Get("steps"), &steps) || steps < 1)) {
    return usage("--steps: expected a positive integer, found '" + args.Get("steps") + "'");
  }
  if (args.Has("warmup") && (!absl::SimpleAtoi(args.Get("warmup"), &warmup) || warmup < 0)) {
    return usage("--warmup: expected a non-negative integer, found '" + args.Get("warmup") + "'");
  }
  // The trainer writes a run directory (recipe, logs, the checkpoint of the stop); it is scratch here.
  std::string scratch = (std::filesystem::temp_directory_path() / "avsl_bench_step_XXXXXX").string();
  if (mkdtemp(scratch.data()) == nullptr) {
    return ReportError("bench step", absl::InternalError("cannot create a scratch directory under " +
                                                         std::filesystem::temp_directory_path().string()));
  }
  struct RemoveScratch {
    std::string path;
    ~RemoveScratch() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_scratch{scratch};
  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  std::vector<std::string> sets = kStepOnlySettings;
  for (const std::string& s : args.GetAll("set")) sets.push_back(s);
  sets.push_back("output_dir=\"" + scratch + "\"");  // last: a recipe's output_dir must not receive the scratch run
  absl::StatusOr<Recipe> recipe = Recipe::Load(args.Positional(1), sets);
  if (!recipe.ok()) return ReportError("bench step", recipe.status());
  if (absl::Status valid = recipe->Validate(*host); !valid.ok()) {
    return ReportError("bench step", WithPluginHint(valid, *host));
  }
  const ComponentConfig root = recipe->Root();
  absl::StatusOr<train::Runtime> runtime = train::ApplyRuntime(root);
  if (!runtime.ok()) return ReportError("bench step", runtime.status());
  absl::StatusOr<train::Precision> precision = train::PrecisionFromRecipe(root, runtime->device);
  if (!precision.ok()) return ReportError("bench step", precision.status());
  const ComponentConfig data = root.Sub("data");
  std::cout << absl::StrFormat(
      "recipe: %s\ndevice: %s\nthreads: %d (LibTorch intra-op), workers: %d, batch size: %d\nprecision: %s\n"
      "allocator: %s\n",
      args.Positional(1), runtime->device.str(), runtime->threads, data.GetInt("workers"), data.GetInt("batch_size"),
      precision->description, train::DescribeAllocator());
  std::cout.flush();

  std::vector<train::StepTimings> timed;
  train::TrainerOptions options;
  options.output_root = scratch;
  options.max_steps = warmup + steps;
  options.final_test = false;
  options.log_to_stderr = false;  // the scratch run's notes (e.g. how to resume it) would mislead here
  options.command_line = "avsl bench step " + args.Positional(1);
  options.on_step_timed = [&](const train::StepTimings& t) { timed.push_back(t); };
  const std::string name = std::filesystem::path(args.Positional(1)).stem().string();
  absl::StatusOr<std::unique_ptr<train::Trainer>> trainer = train::Trainer::Create(*recipe, name, *host, options);
  if (!trainer.ok()) return ReportError("bench step", WithPluginHint(trainer.status(), *host));
  absl::StatusOr<train::StopReason> stopped = (*trainer)->Run();
  if (!stopped.ok()) return ReportError("bench step", stopped.status());
  if (static_cast<long long>(timed.size()) <= warmup) {
    return ReportError("bench step",
                       absl::FailedPreconditionError(absl::StrCat("the run made ", timed.size(),
                                                                  " steps, fewer than --warmup + 1 = ", warmup + 1,
                                                                  " (does the method train? is data.train empty?)")));
  }
  train::StepTimings sum;
  for (size_t i = static_cast<size_t>(warmup); i < timed.size(); ++i) {
    const train::StepTimings& t = timed[i];
    sum.data_wait += t.data_wait;
    sum.collate += t.collate;
    sum.forward += t.forward;
    sum.backward += t.backward;
    sum.optimizer += t.optimizer;
    sum.hooks += t.hooks;
    sum.total += t.total;
    sum.samples += t.samples;
  }
  const double n = static_cast<double>(timed.size()) - static_cast<double>(warmup);
  std::cout << absl::StrFormat("timed: %d steps, %d samples in %.3f s (first %d steps excluded)\n",
                               static_cast<long long>(n), sum.samples, sum.total, warmup);
  std::cout << absl::StrFormat("%-10s %10s %7s\n", "phase", "ms/step", "share");
  // The phases are consecutive slices of the step, so this is rounding when nothing else ran.
  const double other = std::max(
      0.0, sum.total - sum.data_wait - sum.collate - sum.forward - sum.backward - sum.optimizer - sum.hooks);
  for (const auto& [phase, seconds] : std::vector<std::pair<const char*, double>>{{"data wait", sum.data_wait},
                                                                                  {"collate", sum.collate},
                                                                                  {"forward", sum.forward},
                                                                                  {"backward", sum.backward},
                                                                                  {"optimizer", sum.optimizer},
                                                                                  {"hooks", sum.hooks},
                                                                                  {"other", other}}) {
    std::cout << absl::StrFormat("%-10s %10.2f %6.1f %%\n", phase, 1000.0 * seconds / n, 100.0 * seconds / sum.total);
  }
  std::cout << absl::StrFormat("step: %.1f samples/s\n", static_cast<double>(sum.samples) / sum.total);
  return kExitOk;
}

}  // namespace

int RunBench(int argc, char** argv, int first) {
  Args args("avsl bench data|step RECIPE [--split train|val|test] [--batches N] [--steps N] [--warmup N] "
            "[--set KEY=VALUE]...",
            "data: times the recipe's loader for one split as the trainer drives it (the recipe's workers and\n"
            "batch size; decoding, transforms and collation into the batch tensors), the first batch excluded,\n"
            "and ends with the line 'data: <X> samples/s'.\n"
            "step: runs the recipe's training (no validation, no test) and times whole steps (loader + forward +\n"
            "backward + optimizer), the first --warmup excluded; prints their split into data wait, collate,\n"
            "forward, backward, optimizer and hooks, and ends with the line 'step: <X> samples/s'.\n"
            "Both print the threads, workers, batch size, precision, memory format and allocator in force.\n"
            "docs/performance.md says what to change when the data wait dominates.");
  args.Positional("ACTION", "data or step");
  args.Positional("RECIPE", "recipe file or @avsl/<name>");
  args.Option("split", "NAME", "data: train (default), val or test");
  args.Option("batches", "N", "data: batches timed after the first (default 20; epochs wrap around)");
  args.Option("steps", "N", "step: steps timed after the warm-up (default 20)");
  args.Option("warmup", "N", "step: steps run first and not timed (default 3)");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  auto usage = [&](const std::string& message) {
    std::cerr << "avsl bench: " << message << "\n\n" << args.Usage();
    return kExitUsage;
  };
  if (args.Positional(0) == "data") return BenchData(args, usage);
  if (args.Positional(0) == "step") return BenchStep(args, usage);
  return usage("unknown action '" + args.Positional(0) + "'; expected data or step");
}

}  // namespace avsl::cli
