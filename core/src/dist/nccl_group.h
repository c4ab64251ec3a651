// The NCCL process group that carries a data-parallel run's CUDA tensors (gradients, parameter broadcasts, global
// negatives), as torch.distributed's "nccl" backend does. nccl_group.cc is compiled only where LibTorch has CUDA and
// CMake found nccl.h and compiled that file against it (AVSL_WITH_NCCL; cmake/AvslNccl.cmake); without it the
// Gloo group carries CUDA tensors through the host. Internal to the dist floor: communicator.cc is its one user.
#pragma once

#include <chrono>
#include <string>

#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/distributed/c10d/Store.hpp>
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

namespace avsl::dist::internal {

// What the Gloo and NCCL groups have in common: LibTorch 2.x moved the collectives of a backend from ProcessGroup
// to Backend.
#if TORCH_VERSION_MAJOR >= 2
using CollectiveGroup = c10d::Backend;
#else
using CollectiveGroup = c10d::ProcessGroup;
#endif

/// An NCCL group of `size` ranks on `store` for CUDA device `device`. Collectives block the host until they finish
/// (NCCL's blocking wait: TORCH_NCCL_BLOCKING_WAIT, NCCL_BLOCKING_WAIT before LibTorch 2.2; unless the user set it), so
/// a collective that outlives `timeout` throws in wait() instead of the watchdog aborting the process: the communicator
/// then names the lost rank.
c10::intrusive_ptr<CollectiveGroup> MakeNcclGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                  std::chrono::milliseconds timeout, int device);
/// Releases the group's NCCL communicators before the process ends (LibTorch 2.4 and later warn otherwise).
void ShutdownNcclGroup(CollectiveGroup& group);
/// "NCCL 2.21.5" (the version LibTorch's CUDA build runs).
std::string NcclVersion();

}  // namespace avsl::dist::internal
