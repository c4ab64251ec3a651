// The communicator of a data-parallel run on CUDA: CUDA tensors travel over NCCL where the build has it (else over
// Gloo, through the host), CPU tensors over Gloo, side by side in one job. One rank on one GPU exercises the groups
// (their creation on the store, each collective, the step channel, NCCL's blocking waits); scripts/gpu_check.sh
// trains 2 ranks on 2 GPUs when the machine has them. The CPU-only case runs everywhere.
#include <torch/torch.h>

#include <string>

#include <gtest/gtest.h>

#include "avsl/dist/communicator.h"
#include "cuda_skip.h"
#include "local_launcher.h"

namespace avsl {
namespace {

std::unique_ptr<dist::Communicator> ConnectAlone(bool cuda) {
  absl::StatusOr<int> port = cli::FreeLoopbackPort();
  EXPECT_TRUE(port.ok()) << port.status();
  dist::LaunchEnv env;
  env.master_addr = "127.0.0.1";
  env.master_port = port.ok() ? *port : 0;
  env.source = "test";
  absl::StatusOr<std::unique_ptr<dist::Communicator>> comm = dist::Communicator::Connect(env, std::chrono::seconds(30),
                                                                                         cuda);
  EXPECT_TRUE(comm.ok()) << comm.status();
  return comm.ok() ? std::move(*comm) : nullptr;
}

TEST(CommunicatorTransportTest, CpuRanksUseGlooOnly) {
  std::unique_ptr<dist::Communicator> comm = ConnectAlone(false);
  ASSERT_NE(comm, nullptr);
  EXPECT_EQ(comm->transport(), "gloo");
  EXPECT_EQ(comm->cuda_device(), -1);
  at::Tensor t = torch::tensor({1.5, -2.0}, torch::kDouble);
  ASSERT_TRUE(comm->AllReduceSum(t, "the test's sum").ok());
  EXPECT_TRUE(torch::equal(t, torch::tensor({1.5, -2.0}, torch::kDouble)));
}

TEST(CommunicatorTransportTest, CudaTensorsTravelBesideCpuOnes) {
  SKIP_WITHOUT_CUDA();
  std::unique_ptr<dist::Communicator> comm = ConnectAlone(true);
  ASSERT_NE(comm, nullptr);
  EXPECT_EQ(comm->cuda_device(), 0);
  const std::string transport = comm->transport();
  std::cout << "[ transport ] " << transport << "\n";
  // Without NCCL in the build (CMake's "avsl: NCCL" line says why) Gloo carries the CUDA tensors: the same checks.
  if (transport.rfind("nccl", 0) != 0) {
    EXPECT_NE(transport.find("through the host"), std::string::npos) << transport;
  }
  const auto cuda = torch::TensorOptions().device(torch::kCUDA, 0);
  // Each collective on CUDA tensors (NCCL), with a CPU one (Gloo) between them, as a training step interleaves them.
  at::Tensor sum = torch::arange(6, cuda.dtype(torch::kFloat)).reshape({2, 3});
  ASSERT_TRUE(comm->AllReduceSum(sum, "the test's sum").ok());
  EXPECT_TRUE(torch::equal(sum.cpu(), torch::arange(6, torch::kFloat).reshape({2, 3})));
  at::Tensor status = torch::ones({5}, torch::kDouble);
  ASSERT_TRUE(comm->AllReduceSum(status, "the test's status").ok());
  EXPECT_DOUBLE_EQ(status.sum().item<double>(), 5.0);
  std::unique_ptr<dist::Communicator::Pending> pending = comm->StartAllReduceSum(sum.clone());
  ASSERT_TRUE(comm->Wait(*pending, "the test's bucket").ok());
  at::Tensor a = torch::full({3}, 2.0, cuda.dtype(torch::kFloat)), b = torch::full({2, 2}, 7, cuda.dtype(torch::kLong));
  ASSERT_TRUE(comm->Broadcast({a, b}, 0, "the test's broadcast").ok());
  EXPECT_EQ(a.sum().item<float>(), 6.0f);
  EXPECT_EQ(b.sum().item<int64_t>(), 28);
  absl::StatusOr<dist::Communicator::Rows> rows = comm->AllGatherRows(sum, "the test's gather");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_TRUE(rows->all.is_cuda());
  EXPECT_TRUE(torch::equal(rows->all.cpu(), sum.cpu()));
  ASSERT_EQ(rows->counts, (std::vector<int64_t>{2}));
  // The step channel (global negatives, synchronized BatchNorm) shares the NCCL group, and keeps a Gloo one.
  ASSERT_TRUE(comm->OpenStepChannel().ok());
  at::Tensor step = torch::full({4}, 0.25, cuda.dtype(torch::kFloat));
  ASSERT_TRUE(comm->AllReduceSum(step, "the test's step sum", dist::Communicator::Channel::kStep).ok());
  EXPECT_FLOAT_EQ(step.sum().item<float>(), 1.0f);
  absl::StatusOr<std::vector<std::string>> bytes = comm->AllGatherBytes("records", "the test's records");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, (std::vector<std::string>{"records"}));
}

}  // namespace
}  // namespace avsl
