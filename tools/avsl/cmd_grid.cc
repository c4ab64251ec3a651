// avsl grid GRID.toml: runs the cells of an experiment table (recipe × setting × seed) in sequence, each an
// ordinary run directory, skipping finished cells, resuming interrupted ones and never working on a cell that another
// process holds. --status only reads.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli_common.h"
#include "grid_cell.h"
#include "grid_file.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

std::atomic<pid_t> g_child{0};  // lock-free: the handler may run on any thread (LibTorch's included)
volatile sig_atomic_t g_stop_signal = 0;
static_assert(std::atomic<pid_t>::is_always_lock_free);

// The child runs in its own process group, so a terminal's Ctrl-C reaches it once: from here.
void ForwardStop(int sig) {
  g_stop_signal = sig;
  const pid_t child = g_child.load();
  if (child > 0) ::kill(child, sig);
}

struct ChildResult {
  int exit_code = 0;
  std::string error_line;  ///< the last "...: error: ..." line the command wrote to stderr
};

// Only async-signal-safe calls between fork and exec: the grid has LibTorch's threads.
[[noreturn]] void ExecChild(pid_t parent, int stderr_fd, int error_fd, char* const argv[]) {
  // If the grid dies (even by SIGKILL), the command gets SIGTERM: training saves a resumable checkpoint.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(128 + SIGTERM);
  ::setpgid(0, 0);
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  action.sa_handler = SIG_IGN;  // a dead grid's pipe must not kill the command before it saves
  ::sigaction(SIGPIPE, &action, nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY);  // a background process group must not read the terminal
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  ::dup2(stderr_fd, STDERR_FILENO);
  // The parent blocked SIGINT/SIGTERM around fork; a stop forwarded since then ends the child here (nothing started).
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execv(argv[0], argv);
  const int error = errno;
  [[maybe_unused]] const ssize_t written = ::write(error_fd, &error, sizeof error);
  ::_exit(127);
}

// Runs argv[0] with its stderr passed through (and its error line kept); the cell lock is inherited.
ChildResult RunChild(const std::vector<std::string>& argv) {
  std::vector<char*> raw;
  for (const std::string& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
  raw.push_back(nullptr);
  int out_pipe[2], error_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return {1, absl::StrCat("cannot create a pipe: ", std::strerror(errno))};
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return {1, absl::StrCat("cannot create a pipe: ", std::strerror(errno))};
  }
  // Blocked around fork, so a stop is either seen before it (nothing starts) or forwarded once g_child is set.
  sigset_t stops, old_mask;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stops, &old_mask);
  const pid_t parent = ::getpid();
  const pid_t pid = g_stop_signal != 0 ? -2 : ::fork();
  if (pid == 0) ExecChild(parent, out_pipe[1], error_pipe[1], raw.data());
  const int fork_error = errno;
  if (pid > 0) {
    ::setpgid(pid, pid);  // also here: the child's own call may not have run yet when a stop is forwarded
    g_child = pid;
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  // Another thread may have taken a stop while this one had it blocked, before g_child was set.
  if (pid > 0 && g_stop_signal != 0) ::kill(pid, g_stop_signal);
  ::close(out_pipe[1]);
  ::close(error_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(error_pipe[0]);
    if (pid == -2) return {128 + g_stop_signal, "stopped before it started"};
    return {1, absl::StrCat("cannot fork: ", std::strerror(fork_error))};
  }
  int exec_error = 0;
  ssize_t got;
  do {
    got = ::read(error_pipe[0], &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  ::close(error_pipe[0]);

  ChildResult result;
  if (got == static_cast<ssize_t>(sizeof exec_error)) {
    result.error_line = absl::StrCat("cannot execute ", argv[0], ": ", std::strerror(exec_error));
  }
  std::string line;
  auto consume = [&](const char* data, ssize_t n) {
    std::cerr.write(data, n);
    std::cerr.flush();
    for (ssize_t i = 0; i < n; ++i) {
      if (data[i] == '\n' || data[i] == '\r') {
        if (line.find(": error: ") != std::string::npos) result.error_line = line;
        line.clear();
      } else if (line.size() < 4096) {
        line += data[i];
      }
    }
  };
  // Until the child has exited and its output is drained. A descendant that outlives it (and holds the pipe) must
  // not keep the grid waiting, so EOF is not the only way out.
  char buffer[4096];
  int status = 0;
  bool exited = false, eof = false;
  while (!eof) {
    pollfd pfd{out_pipe[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, exited ? 0 : 200);
    if (ready > 0) {
      const ssize_t n = ::read(out_pipe[0], buffer, sizeof(buffer));
      if (n > 0) {
        consume(buffer, n);
        continue;
      }
      if (n == 0 || errno != EINTR) eof = true;
      continue;
    }
    if (ready == 0 && exited) break;  // exited and nothing more to read now
    if (!exited) {
      const pid_t done = ::waitpid(pid, &status, WNOHANG);
      if (done == pid) {
        exited = true;
      } else if (done < 0 && errno != EINTR) {
        result.exit_code = 1;
        result.error_line = absl::StrCat("cannot wait for ", argv[0], " (pid ", pid, "): ", std::strerror(errno));
        ::close(out_pipe[0]);
        g_child = 0;
        return result;
      }
    }
  }
  if (line.find(": error: ") != std::string::npos) result.error_line = line;
  ::close(out_pipe[0]);
  if (!exited) {
    pid_t done;
    while ((done = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (done != pid) {
      g_child = 0;
      return {1, absl::StrCat("cannot wait for ", argv[0], " (pid ", pid, "): ", std::strerror(errno))};
    }
  }
  ::pthread_sigmask(SIG_BLOCK, &stops, &old_mask);  // no forward to a pid the kernel may hand out again
  g_child = 0;
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (WIFSIGNALED(status) && result.error_line.empty()) {
    result.error_line = absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
  }
  return result;
}

void PrintStatusLine(const GridCell& cell, const CellStatus& status) {
  std::cout << absl::StrFormat("%-9s %-32s %s", CellStateName(status.state), cell.name(), cell.dir);
  if (!status.detail.empty()) std::cout << "  (" << status.detail << ")";
  std::cout << "\n";
}

// The cells --only and --seed select (all when neither is given).
struct Selection {
  std::set<std::string> labels;
  std::set<long long> seeds;
  bool operator()(const GridCell& cell) const {
    return (labels.empty() || labels.count(cell.label) != 0) && (seeds.empty() || seeds.count(cell.seed) != 0);
  }
};

// Prints one line per cell and returns the number in each state.
std::map<CellState, int> PrintStatus(const Grid& grid, const Selection& selected) {
  std::map<CellState, int> counts;
  std::cout << "grid " << grid.name << " (" << grid.path << "): " << grid.output_dir << "\n";
  for (const GridCell& cell : grid.cells) {
    if (!selected(cell)) continue;
    const CellStatus status = ReadCellStatus(cell.dir);
    ++counts[status.state];
    PrintStatusLine(cell, status);
  }
  std::cout << counts[CellState::kDone] << " done, " << counts[CellState::kRunning] << " running, "
            << counts[CellState::kFailed] << " failed, " << counts[CellState::kResumable] << " resumable, "
            << counts[CellState::kPending] << " pending\n";
  return counts;
}

struct RunnerContext {
  std::string self;                       // this program
  std::vector<std::string> plugin_paths;  // --plugin-path values, passed on
  std::string nproc;                      // --nproc-per-node, passed on to training
  const PluginHost* host = nullptr;
};

// The overrides that apply to the cell's recipe (SelectOverrides) plus its seed: `seed` and every data.<split>.seed
// the recipe sets (the synthetic datasets generate their scenes from it; real-data lists have no seed).
absl::StatusOr<std::vector<std::string>> SeededOverrides(const GridCell& cell,
                                                         std::vector<std::string>* skipped = nullptr) {
  std::vector<std::string> own;
  for (size_t i = 0; i < cell.overrides.size(); ++i) {
    if (!cell.shared[i]) own.push_back(cell.overrides[i]);
  }
  absl::StatusOr<Recipe> recipe = Recipe::Load(cell.recipe, own);
  if (!recipe.ok()) return recipe.status();
  std::vector<std::string> keys;
  for (const auto& [key, value] : recipe->Flatten()) keys.push_back(key);
  std::vector<std::string> out = SelectOverrides(cell, keys, skipped);
  out.push_back(absl::StrCat("seed=", cell.seed));
  for (const char* split : {"train", "val", "test"}) {
    const std::string key = absl::StrCat("data.", split, ".seed");
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) out.push_back(absl::StrCat(key, "=", cell.seed));
  }
  return out;
}

// A shared override that no selected cell takes is a typo (data.trian.root), not a key for other recipes.
absl::Status CheckSharedOverridesApply(const Grid& grid, const Selection& selected) {
  std::map<std::string, int> skipped_by;
  int cells = 0;  // the selected cells whose recipe loads (the others report their own error when they run)
  for (const GridCell& cell : grid.cells) {
    if (!selected(cell)) continue;
    std::vector<std::string> skipped;
    if (!SeededOverrides(cell, &skipped).ok()) continue;
    ++cells;
    for (const std::string& o : std::set<std::string>(skipped.begin(), skipped.end())) ++skipped_by[o];
  }
  for (const auto& [o, n] : skipped_by) {
    if (n == cells) {
      return absl::InvalidArgumentError(
          absl::StrCat("--set ", o, " applies to no cell: no recipe of ", grid.path,
                       " has that key or its table (a typo? 'avsl recipe dump RECIPE' lists a recipe's keys)"));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> WithSets(std::vector<std::string> argv, const std::vector<std::string>& overrides,
                                  const RunnerContext& ctx) {
  for (const std::string& o : overrides) {
    argv.push_back("--set");
    argv.push_back(o);
  }
  for (const std::string& p : ctx.plugin_paths) {
    argv.push_back("--plugin-path");
    argv.push_back(p);
  }
  return argv;
}

// The evaluations a finished run still lacks: the untrained control and each [[eval]] for every checkpoint.
std::vector<std::vector<std::string>> PendingEvaluations(const GridCell& cell, const RunnerContext& ctx) {
  std::vector<std::vector<std::string>> out;
  const fs::path dir(cell.dir);
  auto missing = [&](const std::string& name) { return !fs::exists(dir / "eval" / name / "metrics.json"); };
  if (cell.untrained && missing("test_untrained")) {
    out.push_back(WithSets({ctx.self, "eval", cell.dir, "--untrained"}, {}, ctx));
  }
  std::vector<std::string> checkpoints;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / "checkpoints", ec)) {
    const fs::path p = entry.path();
    if (p.extension() == ".pt" && (p.stem() == "last" || p.stem().string().rfind("best_", 0) == 0)) {
      checkpoints.push_back(p.stem().string());
    }
  }
  std::sort(checkpoints.begin(), checkpoints.end());
  for (const GridEval& e : cell.evals) {
    for (const std::string& c : checkpoints) {
      const std::string name = absl::StrCat(e.name, "_", c);
      if (!missing(name)) continue;
      out.push_back(WithSets({ctx.self, "eval", cell.dir, "--checkpoint", c, "--out", (dir / "eval" / name).string()},
                             e.overrides, ctx));
    }
    const std::string untrained = absl::StrCat(e.name, "_untrained");
    if (cell.untrained && missing(untrained)) {
      out.push_back(WithSets({ctx.self, "eval", cell.dir, "--untrained", "--out", (dir / "eval" / untrained).string()},
                             e.overrides, ctx));
    }
  }
  return out;
}

// Works on one cell whose lock this process holds: train (fresh or resumed), then the evaluations; with
// `evaluations_only` (a done cell the grid file has given more [[eval]]s since), only the evaluations it lacks.
// Returns false when a stop signal ended it (the cell stays resumable).
bool RunCell(const GridCell& cell, const RunnerContext& ctx, bool evaluations_only, CellRecord* record) {
  const auto start = std::chrono::steady_clock::now();
  auto fail = [&](int code, const std::string& reason) {
    record->state = CellState::kFailed;
    record->exit_code = code;
    record->reason = reason;
    return true;
  };
  absl::StatusOr<std::vector<std::string>> overrides = SeededOverrides(cell);
  if (!overrides.ok()) return fail(kExitError, std::string(overrides.status().message()));
  // Validated here, before a long run starts, with the error naming the key.
  if (absl::StatusOr<Recipe> r = LoadRecipe(cell.recipe, *overrides, *ctx.host); !r.ok()) {
    return fail(kExitError, absl::StrCat("recipe ", cell.recipe, ": ", r.status().message()));
  }
  std::vector<std::string> train = {ctx.self, "train"};
  if (fs::exists(fs::path(cell.dir) / "checkpoints" / "last.pt")) {
    train.insert(train.end(), {"--resume", cell.dir});
  } else {
    train.insert(train.end(), {cell.recipe, "--run-dir", cell.dir});
  }
  if (!ctx.nproc.empty()) train.insert(train.end(), {"--nproc-per-node", ctx.nproc});
  std::vector<std::vector<std::string>> commands = {WithSets(train, *overrides, ctx)};
  if (evaluations_only) commands = PendingEvaluations(cell, ctx);
  for (size_t i = 0; i < commands.size(); ++i) {
    const bool training = i == 0 && !evaluations_only;
    std::cerr << "avsl grid: " << cell.name() << ": " << (training ? commands[i][1] : "eval") << " ("
              << (training && commands[i][2] == "--resume" ? "resuming" : cell.dir) << ")\n";
    const ChildResult r = RunChild(commands[i]);
    if (g_stop_signal != 0) return false;
    if (r.exit_code != 0) return fail(r.exit_code, r.error_line.empty() ? "(no error line)" : r.error_line);
    if (training) {
      const auto evals = PendingEvaluations(cell, ctx);
      commands.insert(commands.end(), evals.begin(), evals.end());
    }
  }
  record->state = CellState::kDone;
  record->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}

}  // namespace

int RunGrid(int argc, char** argv, int first) {
  Args args("avsl grid GRID.toml [--set KEY=VALUE]... [--only LABEL]... [--seed S]... [--nproc-per-node N] [--status | "
            "--dry-run]",
            "Runs the cells of a grid file (method recipe × setting × seeds; docs/reproducing.md) one after the\n"
            "other, each into its own run directory <output_dir>/<label>/seed<S>/ ('avsl train --run-dir'), then\n"
            "the cell's evaluations (the untrained control, the grid's [[eval]]s). Finished cells are skipped, an\n"
            "interrupted one resumes from its checkpoint, a failed one is tried again; a cell another process is\n"
            "working on (its lock, grid.lock, is held) is left to it, so several 'avsl grid' processes can share a\n"
            "grid. One status line per cell before and after; SIGINT/SIGTERM stop the cell in progress resumably.\n"
            "Exit status: 0 when no cell failed, 1 when one did, 130/143 when stopped. Tables: 'avsl report GRID'.");
  args.Positional("GRID", "grid file (TOML with [[cell]] tables)");
  args.Option("only", "LABEL", "run (or show) only the cells with this label", true);
  args.Option("seed", "S", "run (or show) only the cells of this seed", true);
  args.Option("output-dir", "DIR", "where the cells go instead of the grid's output_dir");
  args.Option("nproc-per-node", "N", "train every cell data-parallel in N processes ('avsl train --nproc-per-node')");
  args.Flag("status", "print the status of every cell and exit (reads only)");
  args.Flag("dry-run", "validate every cell's recipe (with its overrides and seed) and print the command that would "
                       "train it; runs nothing");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  absl::StatusOr<Grid> grid = LoadGrid(args.Positional(0), args.GetAll("set"), args.Get("output-dir"));
  if (!grid.ok()) return ReportError("grid", grid.status());
  Selection only;
  for (const std::string& label : args.GetAll("only")) {
    bool known = false;
    for (const GridCell& c : grid->cells) known = known || c.label == label;
    if (!known) {
      std::cerr << "avsl grid: --only: no cell is labelled '" << label << "' in " << grid->path << "\n";
      return kExitUsage;
    }
    only.labels.insert(label);
  }
  for (const std::string& text : args.GetAll("seed")) {
    long long seed = -1;
    bool known = false;
    if (absl::SimpleAtoi(text, &seed)) {
      for (const GridCell& c : grid->cells) known = known || c.seed == seed;
    }
    if (!known) {
      std::cerr << "avsl grid: --seed: no cell has seed '" << text << "' in " << grid->path << "\n";
      return kExitUsage;
    }
    only.seeds.insert(seed);
  }
  if (args.Has("status")) {
    PrintStatus(*grid, only);
    return kExitOk;
  }
  RunnerContext ctx;
  if (args.Has("nproc-per-node")) {
    int n = 0;
    if (!absl::SimpleAtoi(args.Get("nproc-per-node"), &n) || n < 1) {
      std::cerr << "avsl grid: --nproc-per-node: expected a positive integer, got \"" << args.Get("nproc-per-node")
                << "\"\n";
      return kExitUsage;
    }
    ctx.nproc = args.Get("nproc-per-node");
  }
  std::error_code ec;
  ctx.self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) return ReportError("grid", absl::InternalError("cannot find this program's path (/proc/self/exe)"));
  ctx.plugin_paths = args.GetAll("plugin-path");
  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  ctx.host = host.get();

  if (absl::Status s = CheckSharedOverridesApply(*grid, only); !s.ok()) return ReportError("grid", s);
  if (args.Has("dry-run")) {
    int invalid = 0;
    for (const GridCell& cell : grid->cells) {
      if (!only(cell)) continue;
      std::vector<std::string> skipped;
      absl::StatusOr<std::vector<std::string>> overrides = SeededOverrides(cell, &skipped);
      absl::Status valid = overrides.status();
      if (valid.ok()) valid = LoadRecipe(cell.recipe, *overrides, *host).status();
      if (!valid.ok()) {
        ++invalid;
        std::cout << cell.name() << ": INVALID: " << valid.message() << "\n";
        continue;
      }
      std::cout << cell.name() << ": avsl train " << cell.recipe << " --run-dir " << cell.dir;
      for (const std::string& o : *overrides) std::cout << " --set '" << o << "'";
      for (const std::string& o : skipped) std::cout << "  [not for this recipe: " << o << "]";
      std::cout << "\n";
    }
    return invalid > 0 ? kExitError : kExitOk;
  }
  PrintStatus(*grid, only);
  struct sigaction forward = {}, old_int = {}, old_term = {};
  forward.sa_handler = ForwardStop;
  forward.sa_flags = SA_RESTART;
  sigemptyset(&forward.sa_mask);
  ::sigaction(SIGINT, &forward, &old_int);
  ::sigaction(SIGTERM, &forward, &old_term);
  int failed = 0, busy = 0;
  for (const GridCell& cell : grid->cells) {
    if (g_stop_signal != 0) break;
    if (!only(cell)) continue;
    // A done cell is worked on again only for the evaluations the grid file has added since it finished.
    auto finished = [&](bool check_lock) {
      return ReadCellStatus(cell.dir, check_lock).state == CellState::kDone && PendingEvaluations(cell, ctx).empty();
    };
    if (finished(true)) continue;
    absl::StatusOr<CellLock> lock = CellLock::TryAcquire(cell.dir);
    if (!lock.ok()) {
      std::cerr << "avsl grid: " << cell.name() << ": skipped: " << lock.status().message() << "\n";
      ++busy;
      continue;
    }
    // Under the lock: another process may have finished it since the check above.
    if (finished(/*check_lock=*/false)) continue;
    const CellStatus before = ReadCellStatus(cell.dir, /*check_lock=*/false);
    const bool evaluations_only = before.state == CellState::kDone;
    if (!evaluations_only) ClearCellRecord(cell.dir);
    CellRecord record;
    if (!RunCell(cell, ctx, evaluations_only, &record)) {
      std::cerr << "avsl grid: stopped by " << strsignal(g_stop_signal) << " during " << cell.name()
                << "; run the grid again to resume it\n";
      break;
    }
    // Added evaluations leave the record (and its training time) as it was: the cell stays done, its tables stay in
    // the report, and a failed evaluation is simply still pending on the next run (retried alone, no retraining).
    if (evaluations_only) {
      if (record.state == CellState::kDone) {
        std::cerr << "avsl grid: " << cell.name() << ": added the evaluations the grid file lists\n";
      } else {
        ++failed;
        std::cerr << "avsl grid: " << cell.name() << ": an added evaluation failed (exit " << record.exit_code
                  << "): " << record.reason << "; the cell stays done and the next run retries the evaluation\n";
      }
      continue;
    }
    if (absl::Status s = WriteCellRecord(cell.dir, record); !s.ok()) {
      std::cerr << "avsl grid: " << cell.name() << ": cannot write its record: " << s.message() << "\n";
    }
    if (record.state == CellState::kFailed) {
      ++failed;
      std::cerr << "avsl grid: " << cell.name() << " failed (exit " << record.exit_code << "): " << record.reason
                << "\n";
    } else {
      std::cerr << absl::StrFormat("avsl grid: %s done in %.0f s\n", cell.name(), record.seconds);
    }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  PrintStatus(*grid, only);
  if (busy > 0) std::cout << busy << " cell(s) were left to the process working on them\n";
  if (g_stop_signal != 0) return 128 + g_stop_signal;
  return failed > 0 ? kExitError : kExitOk;
}

}  // namespace avsl::cli
