// The collectives a data-parallel run needs, on c10d process groups (Gloo for CPU tensors, NCCL for CUDA tensors
// where LibTorch has CUDA and the build found NCCL) with rendezvous
// through c10d's TCPStore at MASTER_ADDR:MASTER_PORT: the engine PyTorch's DDP uses, so an avsl job sits beside
// torchrun and SLURM like a PyTorch one. c10d stays inside communicator.cc (compile time, and the 1.13/2.x API
// differences live in one file).
//
// Failures never hang and never lose the culprit: every collective waits at most the timeout
// (`train.dist_timeout_s`), and a failed one is reported naming the lost rank(s): each rank beats a heartbeat into the
// store every second, so the survivors can tell which peer stopped (rank 0 holds the store: if it is gone, that is
// the lost rank).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/export.h"
#include "avsl/dist/launch_env.h"

namespace avsl::dist {

class AVSL_EXPORT Communicator {
 public:
  /// Joins the job `env` describes (world size > 1): rank 0 serves the store, every rank builds the Gloo group.
  /// `cuda`: the ranks compute on GPUs, one each (cuda_device()), and in a build with NCCL (AVSL_WITH_NCCL) an NCCL
  /// group carries every CUDA tensor's collective (CPU tensors stay on Gloo). Unavailable naming the address and
  /// the timeout when the peers do not all arrive within `timeout`; with `cuda`, FailedPrecondition on every rank,
  /// naming the ranks, when some rank has no GPU of its own.
  static absl::StatusOr<std::unique_ptr<Communicator>> Connect(const LaunchEnv& env, std::chrono::milliseconds timeout,
                                                               bool cuda = false);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const;
  int world_size() const;
  /// Which library carries which tensors, for the run log ("gloo", or "nccl (NCCL 2.21.5) for CUDA tensors, gloo
  /// for CPU tensors").
  std::string transport() const;
  /// This rank's GPU (Connect with `cuda`): LOCAL_RANK, or 0 when the process sees a single GPU; -1 on CPU.
  int cuda_device() const;

  /// Which Gloo group a collective runs on. kStep is a second group (its own connections and sequence numbers)
  /// for the collectives a method or a layer issues inside a step (global negatives, synchronized BatchNorm):
  /// those in the backward pass interleave with the gradient buckets, which start as autograd reaches them, so on
  /// one group two ranks whose graphs differ a little (a parameter unused on one rank) could pair the wrong calls.
  enum class Channel { kMain, kStep };
  /// Opens kStep; every rank calls it at the same point, after Connect.
  absl::Status OpenStepChannel();

  /// Sums `tensor` over the ranks in place. `what` names the collective in errors ("the gradient all-reduce").
  absl::Status AllReduceSum(at::Tensor& tensor, const std::string& what, Channel channel = Channel::kMain);
  /// Starts the sum in the background (Gloo's threads); Wait() completes it. Calls must be issued in the same order
  /// on every rank.
  class Pending {
   public:
    Pending();
    ~Pending();

   private:
    friend class Communicator;
    struct Work;
    std::unique_ptr<Work> work_;
    std::string error_;  ///< set when starting the collective already failed
  };
  std::unique_ptr<Pending> StartAllReduceSum(at::Tensor tensor, Channel channel = Channel::kMain);
  absl::Status Wait(Pending& pending, const std::string& what);
  /// Rank `root`'s values of `tensors` everywhere (coalesced per dtype: one collective per dtype, not per tensor).
  absl::Status Broadcast(const std::vector<at::Tensor>& tensors, int root, const std::string& what);
  /// Every rank's `local` concatenated along dim 0 in rank order, and each rank's row count. Row counts may differ;
  /// the other dims must agree on every rank (an error names the rank whose do not). Two collectives: the shapes,
  /// then the rows padded to the longest.
  struct Rows {
    at::Tensor all;
    std::vector<int64_t> counts;
  };
  absl::StatusOr<Rows> AllGatherRows(const at::Tensor& local, const std::string& what,
                                     Channel channel = Channel::kMain);
  /// Every rank's `mine`, in rank order (lengths may differ).
  absl::StatusOr<std::vector<std::string>> AllGatherBytes(const std::string& mine, const std::string& what);
  /// Rank 0's `value` on every rank (through the store: for a path or an error text before the group is used).
  absl::StatusOr<std::string> ShareFromRankZero(const std::string& key, const std::string& value);

 private:
  struct Impl;
  explicit Communicator(std::unique_ptr<Impl> impl);
  /// Connect's GPU part: every rank's GPU agreed on Gloo, then the NCCL group made and set up.
  absl::Status JoinGpus();
  /// The error for a failed collective: the lost rank(s) by heartbeat, then the transport's message.
  absl::Status Lost(const std::string& what, const std::string& cause);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsl::dist
