// avsl bench data: where does a run's input time go? Times a recipe's loader as the trainer drives it (the
// recipe's workers and batch size, decoding, transforms, collation into the batch tensors) and prints samples/s.
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "avsl/train/collate.h"
#include "avsl/train/recipe_builders.h"
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
  std::cout << absl::StrFormat(
      "recipe: %s\nsplit: %s (%d samples, %d batches per epoch)\nthreads: %d (LibTorch intra-op), workers: %d, batch "
      "size: %d\nprecision: %s, memory format: %s (they apply to the model, not to the loader)\n",
      args.Positional(1), split, (*loader)->dataset_size(), (*loader)->batches_per_epoch(), runtime->threads,
      data.GetInt("workers"), data.GetInt(train ? "batch_size" : "eval_batch_size"), root.GetString("amp"),
      root.GetBool("channels_last") ? "channels_last" : "contiguous");
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

}  // namespace

int RunBench(int argc, char** argv, int first) {
  Args args("avsl bench data RECIPE [--split train|val|test] [--batches N] [--set KEY=VALUE]...",
            "data: times the recipe's loader for one split as the trainer drives it (the recipe's workers and\n"
            "batch size; decoding, transforms and collation into the batch tensors), the first batch excluded,\n"
            "and ends with the line 'data: <X> samples/s'. The header says the threads, workers, batch size,\n"
            "precision and memory format in force. docs/performance.md says what to change when the data wait\n"
            "dominates.");
  args.Positional("ACTION", "data");
  args.Positional("RECIPE", "recipe file or @avsl/<name>");
  args.Option("split", "NAME", "train (default), val or test");
  args.Option("batches", "N", "batches timed after the first (default 20; epochs wrap around)");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  auto usage = [&](const std::string& message) {
    std::cerr << "avsl bench: " << message << "\n\n" << args.Usage();
    return kExitUsage;
  };
  if (args.Positional(0) != "data") return usage("unknown action '" + args.Positional(0) + "'; expected data");
  return BenchData(args, usage);
}

}  // namespace avsl::cli
