// Where this process stands in a multi-process job, read from the environment the way torchrun, SLURM's srun and
// `avsl train --nproc-per-node` describe it, so any of them (or a plain shell loop) can start a run.
#pragma once

#include <cstdlib>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "avsl/core/export.h"

namespace avsl::dist {

struct LaunchEnv {
  int rank = 0;              ///< RANK (SLURM_PROCID)
  int world_size = 1;        ///< WORLD_SIZE (SLURM_NTASKS)
  int local_rank = 0;        ///< LOCAL_RANK (SLURM_LOCALID): picks the GPU on a multi-GPU machine
  int local_world_size = 1;  ///< LOCAL_WORLD_SIZE (the leading count of SLURM_NTASKS_PER_NODE)
  std::string master_addr;   ///< MASTER_ADDR: host of rank 0, which serves the rendezvous store
  int master_port = 0;       ///< MASTER_PORT
  std::string source;        ///< "torchrun", "slurm" or "" (a single process)

  bool distributed() const { return world_size > 1; }
};

/// Reads RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT; when RANK and WORLD_SIZE are
/// absent, SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID and SLURM_NTASKS_PER_NODE (MASTER_ADDR/MASTER_PORT are still
/// needed: SLURM does not choose them). Neither set, or a world size of 1: a single process (today's trainer).
/// InvalidArgument naming the variable and its value for a non-integer, an out-of-range rank or port, or a missing
/// MASTER_ADDR/MASTER_PORT when the world size is above 1. `getenv` is injectable for tests.
AVSL_EXPORT absl::StatusOr<LaunchEnv> ReadLaunchEnv(const std::function<const char*(const char*)>& getenv =
                                                        [](const char* name) { return std::getenv(name); });

}  // namespace avsl::dist
