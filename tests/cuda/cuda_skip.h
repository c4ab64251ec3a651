// The CUDA tests' skip: without a CUDA device the test stops here, skipped, and says why.
#pragma once

#include <torch/torch.h>

#include <gtest/gtest.h>

#define SKIP_WITHOUT_CUDA()                                 \
  if (!torch::cuda::is_available())                         \
  GTEST_SKIP() << "no CUDA device: LibTorch " TORCH_VERSION \
                  " here is CPU-only (run scripts/gpu_check.sh on a GPU machine)"
