#include "avsl/dist/launch_env.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace avsl::dist {
namespace {

using GetEnv = std::function<const char*(const char*)>;

// An unset variable leaves *out alone; a set one must be an integer in [min, max].
absl::Status ReadInt(const GetEnv& getenv, const char* name, int min, int max, int* out) {
  const char* text = getenv(name);
  if (text == nullptr) return absl::OkStatus();
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", name, "=\"", text, "\": expected an integer in [", min, ", ", max, "]"));
  }
  *out = value;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LaunchEnv> ReadLaunchEnv(const GetEnv& getenv) {
  LaunchEnv env;
  constexpr int kMaxRanks = 1 << 20;
  const bool torchrun = getenv("RANK") != nullptr || getenv("WORLD_SIZE") != nullptr;
  const bool slurm = !torchrun && getenv("SLURM_PROCID") != nullptr && getenv("SLURM_NTASKS") != nullptr;
  if (torchrun) {
    if (getenv("RANK") == nullptr || getenv("WORLD_SIZE") == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("environment: ", getenv("RANK") ? "RANK" : "WORLD_SIZE",
                                                     " is set but ", getenv("RANK") ? "WORLD_SIZE" : "RANK",
                                                     " is not; a launcher sets both (torchrun does)"));
    }
    env.source = "torchrun";
    if (absl::Status s = ReadInt(getenv, "WORLD_SIZE", 1, kMaxRanks, &env.world_size); !s.ok()) return s;
    if (absl::Status s = ReadInt(getenv, "RANK", 0, kMaxRanks, &env.rank); !s.ok()) return s;
    env.local_rank = env.rank;
    env.local_world_size = env.world_size;
    if (getenv("LOCAL_WORLD_SIZE") != nullptr || getenv("LOCAL_RANK") != nullptr) env.local_rank = 0;
    if (absl::Status s = ReadInt(getenv, "LOCAL_RANK", 0, kMaxRanks, &env.local_rank); !s.ok()) return s;
    if (absl::Status s = ReadInt(getenv, "LOCAL_WORLD_SIZE", 1, kMaxRanks, &env.local_world_size); !s.ok()) {
      return s;
    }
  } else if (slurm) {
    env.source = "slurm";
    if (absl::Status s = ReadInt(getenv, "SLURM_NTASKS", 1, kMaxRanks, &env.world_size); !s.ok()) return s;
    if (absl::Status s = ReadInt(getenv, "SLURM_PROCID", 0, kMaxRanks, &env.rank); !s.ok()) return s;
    if (absl::Status s = ReadInt(getenv, "SLURM_LOCALID", 0, kMaxRanks, &env.local_rank); !s.ok()) return s;
    // "4" or "4(x2)": tasks on this node come first.
    if (const char* per_node = getenv("SLURM_NTASKS_PER_NODE"); per_node != nullptr) {
      const int count = std::atoi(per_node);
      if (count >= 1) env.local_world_size = count;
    }
  } else {
    return env;
  }
  if (env.rank >= env.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("environment: rank ", env.rank, " (",
                                                   slurm ? "SLURM_PROCID" : "RANK", ") is not below the world size ",
                                                   env.world_size));
  }
  if (env.local_rank >= env.local_world_size) {
    return absl::InvalidArgumentError(absl::StrCat("environment: local rank ", env.local_rank,
                                                   " is not below the local world size ", env.local_world_size));
  }
  if (!env.distributed()) return env;
  const char* addr = getenv("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0') {
    return absl::InvalidArgumentError(absl::StrCat(
        "environment: MASTER_ADDR is not set; a job of ", env.world_size,
        " processes needs the host of rank 0 (torchrun sets it; under SLURM export it, e.g. the first host of "
        "`scontrol show hostnames $SLURM_JOB_NODELIST`)"));
  }
  env.master_addr = addr;
  if (getenv("MASTER_PORT") == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("environment: MASTER_PORT is not set; a job of ", env.world_size,
                                                   " processes needs a free TCP port on ", env.master_addr,
                                                   " for the rendezvous"));
  }
  if (absl::Status s = ReadInt(getenv, "MASTER_PORT", 1, 65535, &env.master_port); !s.ok()) return s;
  return env;
}

}  // namespace avsl::dist
