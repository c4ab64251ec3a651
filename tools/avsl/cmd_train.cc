// avsl train: runs a recipe into a run directory; --resume continues one; --init-from starts from weights.
#include <csignal>
#include <filesystem>
#include <iostream>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/dist/launch_env.h"
#include "avsl/train/trainer.h"
#include "cli_common.h"
#include "local_launcher.h"
#include "run_plugins.h"

namespace avsl::cli {
namespace {

std::string CommandLine(int argc, char** argv) {
  std::vector<std::string> parts(argv, argv + argc);
  return absl::StrJoin(parts, " ");
}

// A resumed run must be the same experiment: architecture and data changes are refused, others warned.
absl::Status CompareWithStored(const Recipe& stored, const Recipe& current) {
  auto a = stored.Flatten(), b = current.Flatten();
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  std::vector<std::string> refused;
  for (const std::string& k : keys) {
    auto ia = a.find(k), ib = b.find(k);
    const std::string before = ia == a.end() ? "(unset)" : ia->second;
    const std::string after = ib == b.end() ? "(unset)" : ib->second;
    if (before == after) continue;
    const std::string line = k + ": " + before + " -> " + after;
    if (train::IsArchitectureOrDataKey(k)) {
      refused.push_back(line);
    } else {
      std::cerr << "WARNING: resuming with a changed recipe key " << line << "\n";
    }
  }
  if (!refused.empty()) {
    return absl::FailedPreconditionError("cannot resume: the model or data changed (" + absl::StrJoin(refused, "; ") +
                                         "); start a new run instead");
  }
  return absl::OkStatus();
}

// argv without `--nproc-per-node N` / `--nproc-per-node=N`: what every rank of the launched job runs.
std::vector<std::string> RankArguments(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--nproc-per-node") {
      ++i;
      continue;
    }
    if (arg.rfind("--nproc-per-node=", 0) == 0) continue;
    out.push_back(arg);
  }
  return out;
}

// `avsl train --nproc-per-node N ...`: this process becomes the launcher of N ranks on loopback.
int LaunchRanks(int nproc, int argc, char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    std::cerr << "avsl train: cannot find this program's path (/proc/self/exe): " << ec.message() << "\n";
    return kExitError;
  }
  LaunchSpec spec;
  spec.executable = self.string();
  spec.args = RankArguments(argc, argv);
  spec.nproc = nproc;
  absl::StatusOr<LaunchResult> result = LaunchLocal(spec);
  if (!result.ok()) return ReportError("train", result.status(), false);
  return result->exit_code;
}

}  // namespace

int RunTrain(int argc, char** argv, int first) {
  Args args("avsl train RECIPE [--set KEY=VALUE]... | avsl train --resume RUN_DIR [--set KEY=VALUE]...",
            "Trains the recipe's method into runs/<recipe>/<timestamp>/ (recipe.toml, command.txt, env.json, log.txt,\n"
            "metrics.jsonl, checkpoints/last.pt and best_<metric>.pt, curve.png, eval/test_*). SIGINT/SIGTERM finish\n"
            "the current step, save a resumable checkpoint and exit; --resume continues bit-identically on CPU.");
  args.Positional("RECIPE", "recipe file, or a shipped recipe by name: @avsl/ezvsl/synthetic.toml (not with --resume)",
                  false);
  args.Option("resume", "RUN_DIR",
              "continue this run from checkpoints/last.pt (also loads the plugins its env.json records that the "
              "search path does not provide)");
  args.Option("init-from", "CKPT", "start a new run from these weights (weights only)");
  args.Option("output-dir", "DIR", "parent of run directories (default runs/)");
  args.Option("run-dir", "DIR",
              "write the run exactly into DIR instead of <output-dir>/<name>/<timestamp>/ (created; refused when it "
              "holds a checkpoint: resume that with --resume DIR)");
  args.Option("max-steps", "N", "stop after N optimizer steps in this invocation (resumable), e.g. to time-box");
  args.Option("nproc-per-node", "N",
              "train data-parallel in N processes on this machine (Gloo on loopback), as torchrun --nproc-per-node "
              "does; data.batch_size is per process. Without it the torchrun/SLURM environment decides "
              "(docs/distributed.md)");
  args.Flag("verbose", "print full C++ stack traces of errors");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  const bool verbose = args.Has("verbose");
  if (args.Has("nproc-per-node")) {
    int nproc = 0;
    if (!absl::SimpleAtoi(args.Get("nproc-per-node"), &nproc) || nproc < 1 || nproc > 1024) {
      std::cerr << "avsl train: --nproc-per-node: expected an integer in [1, 1024], got \""
                << args.Get("nproc-per-node") << "\"\n";
      return kExitUsage;
    }
    if (std::getenv("RANK") != nullptr) {
      std::cerr << "avsl train: --nproc-per-node starts its own ranks, but RANK is set (this process is already a "
                   "rank of a launched job, e.g. under torchrun); drop one of the two\n";
      return kExitUsage;
    }
    return LaunchRanks(nproc, argc, argv);
  }
  const bool resume = args.Has("resume");
  if (resume == (args.positional_count() == 1)) {
    std::cerr << "avsl train: give either RECIPE or --resume RUN_DIR\n\n" << args.Usage();
    return kExitUsage;
  }
  train::TrainerOptions options;
  options.command_line = CommandLine(argc, argv);
  options.output_root = args.Get("output-dir", "runs");
  options.run_dir = args.Get("run-dir");
  if (resume && !options.run_dir.empty()) {
    std::cerr << "avsl train: --run-dir names a new run's directory; a resumed run stays in its own (--resume)\n";
    return kExitUsage;
  }
  options.init_from = args.Get("init-from");
  options.verbose_errors = verbose;
  absl::StatusOr<dist::LaunchEnv> launch = dist::ReadLaunchEnv();
  if (!launch.ok()) return ReportError("train", launch.status(), verbose);
  options.launch = *launch;
  if (args.Has("max-steps") && !absl::SimpleAtoi(args.Get("max-steps"), &options.max_steps)) {
    std::cerr << "avsl train: --max-steps: expected an integer\n";
    return kExitUsage;
  }
  // Absolute plugin directories: env.json then records paths that `avsl eval` can load from anywhere.
  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  if (resume) {
    for (const std::string& line : LoadRecordedPlugins(args.Get("resume"), *host))
      std::cerr << "avsl train: " << line << "\n";
  }
  std::string recipe_path = resume ? (std::filesystem::path(args.Get("resume")) / "recipe.toml").string()
                                   : args.Positional(0);
  absl::StatusOr<Recipe> recipe = LoadRecipe(recipe_path, args, *host);
  if (!recipe.ok()) return ReportError("train", recipe.status(), verbose);
  if (resume) {
    options.resume_dir = args.Get("resume");
    Args no_sets("", "");
    absl::StatusOr<Recipe> stored = LoadRecipe(recipe_path, no_sets, *host);
    if (!stored.ok()) return ReportError("train", stored.status(), verbose);
    absl::Status same = CompareWithStored(*stored, *recipe);
    if (!same.ok()) return ReportError("train", same, verbose);
  }
  const ComponentConfig root = recipe->Root();
  const std::string name = root.Has("name") ? root.GetString("name")
                                            : std::filesystem::path(recipe_path).stem().string();
  // A training error of a rank other than 0 goes to stderr with its rank: rank 0's log.txt has only rank 0's.
  const std::string label = options.launch.distributed() && options.launch.rank != 0
                                ? absl::StrCat("train (rank ", options.launch.rank, ")")
                                : "train";
  absl::StatusOr<std::unique_ptr<train::Trainer>> trainer = train::Trainer::Create(*recipe, name, *host, options);
  if (!trainer.ok()) return ReportError(label, WithPluginHint(trainer.status(), *host), verbose);
  absl::StatusOr<train::StopReason> stopped = (*trainer)->Run();
  if (!stopped.ok()) return ReportError(label, stopped.status(), verbose);
  switch (*stopped) {
    case train::StopReason::kSigint: return 128 + SIGINT;
    case train::StopReason::kSigterm: return 128 + SIGTERM;
    case train::StopReason::kMaxSteps:  // a normal, resumable stop
    case train::StopReason::kHook:
    case train::StopReason::kCompleted: return kExitOk;
  }
  return kExitOk;
}

}  // namespace avsl::cli
