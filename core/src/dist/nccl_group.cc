#include "dist/nccl_group.h"

#include <cstdlib>

// ProcessGroupNCCL.hpp declares the group only under this define, which LibTorch's own CUDA build sets.
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/cuda/nccl.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "absl/strings/str_cat.h"

namespace avsl::dist::internal {

c10::intrusive_ptr<CollectiveGroup> MakeNcclGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                  std::chrono::milliseconds timeout, int device) {
  // Read by the group's constructor, under the name of this LibTorch (2.2 renamed it and warns about the old one); a
  // value the user set wins (overwrite = 0).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
  setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
#else
  setenv("NCCL_BLOCKING_WAIT", "1", 0);
#endif
  // NCCL binds a communicator to the current device when it first runs a collective.
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
}

void ShutdownNcclGroup(CollectiveGroup& group) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  if (auto* nccl = dynamic_cast<c10d::ProcessGroupNCCL*>(&group)) nccl->shutdown();
#else
  (void)group;
#endif
}

std::string NcclVersion() {
  // LibTorch packs the NCCL it was built with as major << 32 | minor << 16 | patch.
  const std::uint64_t v = torch::cuda::nccl::version();
  return absl::StrCat("NCCL ", v >> 32, ".", (v >> 16) & 0xffff, ".", v & 0xffff);
}

}  // namespace avsl::dist::internal
