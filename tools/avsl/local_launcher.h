// A torchrun-like launcher for one machine, used by `avsl train --nproc-per-node N`: starts N copies of a program
// as ranks 0..N-1 of one process group, forwards SIGINT/SIGTERM to them, and after a rank fails gives the others a
// grace period to notice before terminating them. Torch-free: the parent process never initializes LibTorch.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace avsl::cli {

struct LaunchSpec {
  std::string executable;         ///< program every rank runs (the caller passes /proc/self/exe resolved)
  std::vector<std::string> args;  ///< argv[1..] of every rank (argv[0] = executable)
  int nproc = 1;                  ///< ranks on this machine (>= 1)
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  ///< 0: pick a free loopback TCP port (FreeLoopbackPort)
  /// After the first rank fails (non-zero exit or killed by a signal), how long the remaining ranks get to notice
  /// the loss and exit on their own (they report which rank they lost) before the launcher sends them SIGTERM,
  /// then SIGKILL 10 s later.
  double grace_seconds = 60;
  std::string label = "avsl train";  ///< prefix of the launcher's stderr lines
};

/// How one rank ended.
struct RankExit {
  int rank = 0;
  int pid = 0;
  int exit_code = 0;  ///< the status it exited with; 128 + signal when a signal killed it
  int signal = 0;     ///< the signal that killed it; 0 when it exited normally
};

struct LaunchResult {
  /// 0 when every rank exited 0; else the first failure's code (128 + signal for a signal); with no failure, the
  /// code of a rank stopped by a forwarded SIGINT/SIGTERM (130/143), as a single process stopped that way.
  int exit_code = 0;
  std::vector<RankExit> exits;  ///< one per rank, in rank order
  /// One line per failed rank, in order of failure, e.g. "rank 1 (pid 4242) was killed by signal 9 (Killed)" or
  /// "rank 0 (pid 4241) exited with status 1". Ranks the launcher itself terminated after the grace period, and
  /// ranks that stopped on a forwarded SIGINT/SIGTERM, are not failures.
  std::vector<std::string> failures;
};

/// A TCP port that was free on 127.0.0.1 a moment ago (bind to port 0, read it back). Another process may take it
/// before rank 0 binds it; that is the same race torchrun accepts.
absl::StatusOr<int> FreeLoopbackPort();

/// Starts spec.nproc ranks of spec.executable and waits until every one has exited. Each rank inherits the
/// environment with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT set,
/// and SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID removed (inside a SLURM allocation the launcher's ranks are the
/// ones that count). While it waits, SIGINT and SIGTERM are forwarded once to the running ranks (they save a
/// resumable checkpoint and exit 130/143); the previous handlers are restored before it returns. Failures and
/// terminations are reported on stderr as "<label>: rank R (pid P) ...". A rank whose program cannot be executed
/// exits 127 after a "<label>: rank R: cannot execute PATH: REASON" line.
/// Errors: InvalidArgument for nproc < 1 (naming the value), an empty executable, a port outside 0..65535 or a
/// negative grace; a failed fork stops the ranks already started and returns its errno as a status.
absl::StatusOr<LaunchResult> LaunchLocal(const LaunchSpec& spec);

}  // namespace avsl::cli
