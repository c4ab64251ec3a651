#include "local_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/train/stop_signals.h"

extern char** environ;

namespace avsl::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Short enough that a forwarded Ctrl-C or an expired grace period is acted on without a noticeable delay.
constexpr long kPollNanoseconds = 50'000'000;
constexpr auto kKillAfterTerm = std::chrono::seconds(10);

// Set by the launcher for each rank, so inherited values (a launcher started by another launcher) never leak in.
const std::set<std::string>& ReplacedVariables() {
  static const auto* names = new std::set<std::string>{
      "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT",
      // Inside a SLURM allocation these would make every rank think it is the allocation's task.
      "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"};
  return *names;
}

std::vector<std::string> RankEnvironment(const std::vector<std::string>& inherited, const LaunchSpec& spec, int port,
                                         int rank) {
  std::vector<std::string> env = inherited;
  env.push_back(absl::StrCat("RANK=", rank));
  env.push_back(absl::StrCat("LOCAL_RANK=", rank));
  env.push_back(absl::StrCat("WORLD_SIZE=", spec.nproc));
  env.push_back(absl::StrCat("LOCAL_WORLD_SIZE=", spec.nproc));
  env.push_back("GROUP_RANK=0");
  env.push_back(absl::StrCat("MASTER_ADDR=", spec.master_addr));
  env.push_back(absl::StrCat("MASTER_PORT=", port));
  return env;
}

// execve wants char* const[]; the strings outlive the fork, so the child touches no allocator.
std::vector<char*> CArray(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// One write per line, so the launcher's lines do not interleave mid-line with the ranks' output.
void Say(const std::string& label, const std::string& text) { std::cerr << absl::StrCat(label, ": ", text, "\n"); }

std::string RankNames(const std::vector<int>& ranks) {
  return absl::StrCat(ranks.size() == 1 ? "rank " : "ranks ", absl::StrJoin(ranks, ", "));
}

std::string Describe(const RankExit& e) {
  if (e.signal != 0) {
    return absl::StrCat("rank ", e.rank, " (pid ", e.pid, ") was killed by signal ", e.signal, " (",
                        strsignal(e.signal), ")");
  }
  return absl::StrCat("rank ", e.rank, " (pid ", e.pid, ") exited with status ", e.exit_code);
}

// Runs in the forked child, which may be the copy of a multithreaded process: async-signal-safe calls only.
[[noreturn]] void ExecRank(const char* path, char* const argv[], char* const envp[], int error_fd) {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(SIGINT, &default_action, nullptr);
  sigaction(SIGTERM, &default_action, nullptr);
  // The mask survives exec; the parent blocked SIGINT/SIGTERM around fork, and its callers may have blocked more.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(path, argv, envp);
  // The parent prints the reason: strerror is not async-signal-safe.
  const int error = errno;
  [[maybe_unused]] const ssize_t written = write(error_fd, &error, sizeof error);
  _exit(127);
}

// Stops ranks that were started before a launch had to give up; they have nothing to save yet.
void KillAndReap(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) kill(pid, SIGKILL);
  for (pid_t pid : pids) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

struct Child {
  pid_t pid = -1;
  bool running = false;
  bool terminated = false;  // by the launcher after the grace period: its exit is a consequence, not a failure
};

}  // namespace

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "cannot pick a free port: socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    close(fd);
    return absl::ErrnoToStatus(error, "cannot pick a free port on 127.0.0.1");
  }
  close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

absl::StatusOr<LaunchResult> LaunchLocal(const LaunchSpec& spec) {
  if (spec.nproc < 1) return absl::InvalidArgumentError(absl::StrCat("nproc must be at least 1, got ", spec.nproc));
  if (spec.executable.empty()) return absl::InvalidArgumentError("no executable to launch");
  if (spec.master_port < 0 || spec.master_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("master port must be in 0..65535, got ", spec.master_port));
  }
  if (!(spec.grace_seconds >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("grace period must be >= 0 s, got ", spec.grace_seconds));
  }
  int port = spec.master_port;
  if (port == 0) {
    absl::StatusOr<int> free_port = FreeLoopbackPort();
    if (!free_port.ok()) return free_port.status();
    port = *free_port;
  }

  // Everything the children need is built before the first fork.
  std::vector<std::string> inherited;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string variable(*entry);
    if (!ReplacedVariables().count(variable.substr(0, variable.find('=')))) inherited.push_back(variable);
  }
  std::vector<std::string> argv_strings = {spec.executable};
  argv_strings.insert(argv_strings.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv = CArray(argv_strings);
  std::vector<std::vector<std::string>> env_strings(spec.nproc);
  std::vector<std::vector<char*>> envs(spec.nproc);
  for (int rank = 0; rank < spec.nproc; ++rank) {
    env_strings[rank] = RankEnvironment(inherited, spec, port, rank);
    envs[rank] = CArray(env_strings[rank]);
  }

  // SIGINT/SIGTERM are recorded for the wait loop while the ranks run; the previous dispositions come back when
  // the launch returns, on every path.
  train::StopSignalScope signals;
  std::vector<Child> children(spec.nproc);
  std::vector<pid_t> started;
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  for (int rank = 0; rank < spec.nproc; ++rank) {
    // The exec error travels over a close-on-exec pipe: end of file means the program is running.
    int error_pipe[2];
    if (pipe2(error_pipe, O_CLOEXEC) != 0) {
      const int error = errno;
      KillAndReap(started);
      return absl::ErrnoToStatus(error, absl::StrCat("cannot start rank ", rank, ": pipe"));
    }
    // Blocked across fork, so a Ctrl-C cannot run the launcher's handler in a child (and be lost there) before
    // the child restores the default action; the child unblocks it and the default action applies.
    sigset_t old_mask;
    pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
    const pid_t pid = fork();
    if (pid == 0) ExecRank(argv[0], argv.data(), envs[rank].data(), error_pipe[1]);
    const int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    close(error_pipe[1]);
    if (pid < 0) {
      close(error_pipe[0]);
      KillAndReap(started);
      return absl::ErrnoToStatus(fork_error, absl::StrCat("cannot start rank ", rank, " of ", spec.nproc, ": fork"));
    }
    started.push_back(pid);
    children[rank] = {pid, /*running=*/true, /*terminated=*/false};
    int exec_error = 0;
    ssize_t got;
    do {
      got = read(error_pipe[0], &exec_error, sizeof exec_error);
    } while (got < 0 && errno == EINTR);
    close(error_pipe[0]);
    if (got == static_cast<ssize_t>(sizeof exec_error)) {
      Say(spec.label, absl::StrCat("rank ", rank, ": cannot execute ", spec.executable, ": ", strerror(exec_error)));
    }
  }

  LaunchResult result;
  result.exits.resize(spec.nproc);
  int running = spec.nproc;
  int forwarded = 0;
  bool failed = false;
  int stop_code = 0;
  std::optional<Clock::time_point> terminate_at, kill_at;
  auto survivors = [&children] {
    std::vector<int> ranks;
    for (size_t rank = 0; rank < children.size(); ++rank)
      if (children[rank].running) ranks.push_back(static_cast<int>(rank));
    return ranks;
  };
  auto signal_survivors = [&children](int signal) {
    for (Child& c : children)
      if (c.running) kill(c.pid, signal);
  };
  while (running > 0) {
    if (forwarded == 0 && train::StopSignalScope::received() != 0) {
      forwarded = train::StopSignalScope::received();
      Say(spec.label, absl::StrCat("received ", forwarded == SIGINT ? "SIGINT" : "SIGTERM", "; forwarding it to ",
                                   RankNames(survivors())));
      signal_survivors(forwarded);
    }
    for (int rank = 0; rank < spec.nproc; ++rank) {
      Child& child = children[rank];
      if (!child.running) continue;
      int status = 0;
      const pid_t reaped = waitpid(child.pid, &status, WNOHANG);
      if (reaped == 0 || (reaped < 0 && errno == EINTR)) continue;
      child.running = false;
      --running;
      RankExit& ended = result.exits[rank];
      ended.rank = rank;
      ended.pid = child.pid;
      if (reaped < 0) {
        // Someone else (a SIGCHLD handler of the caller's) reaped it: the status is gone, so assume the worst.
        ended.exit_code = 1;
      } else if (WIFSIGNALED(status)) {
        ended.signal = WTERMSIG(status);
        ended.exit_code = 128 + ended.signal;
      } else {
        ended.exit_code = WEXITSTATUS(status);
      }
      if (ended.exit_code == 0) continue;
      const std::string line = reaped < 0 ? absl::StrCat("rank ", rank, " (pid ", child.pid,
                                                         ") was reaped elsewhere; its exit status is unknown")
                                          : Describe(ended);
      if (child.terminated) {
        Say(spec.label, absl::StrCat(line, " (stopped by the launcher)"));
        continue;
      }
      // Stopped by Ctrl-C or SIGTERM, directly from the terminal or forwarded: a resumable stop, as for one process.
      const bool stop_signal = ended.signal == SIGINT || ended.signal == SIGTERM || ended.exit_code == 128 + SIGINT ||
                               ended.exit_code == 128 + SIGTERM;
      if (stop_signal && (forwarded != 0 || train::StopSignalScope::received() != 0)) {
        if (stop_code == 0) stop_code = ended.exit_code;
        continue;
      }
      result.failures.push_back(line);
      Say(spec.label, line);
      if (failed) continue;
      failed = true;
      result.exit_code = ended.exit_code;
      terminate_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(std::min(spec.grace_seconds, 1e9)));
      if (running > 0) {
        Say(spec.label, absl::StrCat("waiting up to ", spec.grace_seconds, " s for ", RankNames(survivors()),
                                     " to exit on their own before sending SIGTERM"));
      }
    }
    if (running == 0) break;
    const Clock::time_point now = Clock::now();
    if (terminate_at && now >= *terminate_at) {
      terminate_at.reset();
      kill_at = now + kKillAfterTerm;
      Say(spec.label, absl::StrCat(RankNames(survivors()), " still running ", spec.grace_seconds,
                                   " s after the first failure; sending SIGTERM"));
      for (Child& c : children) c.terminated = c.terminated || c.running;
      signal_survivors(SIGTERM);
    } else if (kill_at && now >= *kill_at) {
      kill_at.reset();
      Say(spec.label, absl::StrCat(RankNames(survivors()), " still running ",
                                   std::chrono::duration_cast<std::chrono::seconds>(kKillAfterTerm).count(),
                                   " s after SIGTERM; sending SIGKILL"));
      signal_survivors(SIGKILL);
    }
    // nanosleep, not std::this_thread::sleep_for (which sleeps on after EINTR): a signal ends the wait at once.
    const timespec poll = {0, kPollNanoseconds};
    nanosleep(&poll, nullptr);
  }
  if (!failed) result.exit_code = stop_code;
  return result;
}

}  // namespace avsl::cli
