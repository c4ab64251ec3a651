// The launch contract: torchrun's variables, SLURM's as a fallback, a single process when neither is set.
#include "avsl/dist/launch_env.h"

#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace avsl::dist {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<LaunchEnv> Read(const std::map<std::string, std::string>& vars) {
  return ReadLaunchEnv([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(LaunchEnv, NothingSetIsOneProcess) {
  absl::StatusOr<LaunchEnv> env = Read({});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_FALSE(env->distributed());
  EXPECT_EQ(env->world_size, 1);
}

TEST(LaunchEnv, TorchrunVariables) {
  absl::StatusOr<LaunchEnv> env = Read({{"RANK", "3"},
                                        {"WORLD_SIZE", "8"},
                                        {"LOCAL_RANK", "1"},
                                        {"LOCAL_WORLD_SIZE", "2"},
                                        {"MASTER_ADDR", "node0"},
                                        {"MASTER_PORT", "29500"},
                                        {"SLURM_PROCID", "7"},
                                        {"SLURM_NTASKS", "9"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->world_size, 8);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 2);
  EXPECT_EQ(env->master_addr, "node0");
  EXPECT_EQ(env->master_port, 29500);
  EXPECT_EQ(env->source, "torchrun");  // torchrun's variables win over SLURM's
}

TEST(LaunchEnv, SlurmWhenTorchrunIsAbsent) {
  absl::StatusOr<LaunchEnv> env = Read({{"SLURM_PROCID", "5"},
                                        {"SLURM_NTASKS", "8"},
                                        {"SLURM_LOCALID", "1"},
                                        {"SLURM_NTASKS_PER_NODE", "4(x2)"},
                                        {"MASTER_ADDR", "n1"},
                                        {"MASTER_PORT", "12345"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->source, "slurm");
  EXPECT_EQ(env->rank, 5);
  EXPECT_EQ(env->world_size, 8);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 4);
}

TEST(LaunchEnv, WorldSizeOneNeedsNoRendezvous) {
  absl::StatusOr<LaunchEnv> env = Read({{"RANK", "0"}, {"WORLD_SIZE", "1"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_FALSE(env->distributed());
}

TEST(LaunchEnv, ErrorsNameTheVariable) {
  EXPECT_THAT(Read({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).status().message(), HasSubstr("RANK=\"x\""));
  EXPECT_THAT(Read({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).status().message(),
              HasSubstr("rank 2 (RANK) is not below the world size 2"));
  EXPECT_THAT(Read({{"RANK", "0"}}).status().message(), HasSubstr("RANK is set but WORLD_SIZE is not"));
  EXPECT_THAT(Read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}).status().message(),
              HasSubstr("MASTER_ADDR is not set"));
  EXPECT_THAT(Read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}).status().message(),
              HasSubstr("MASTER_PORT is not set"));
  EXPECT_THAT(
      Read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}).status().message(),
      HasSubstr("MASTER_PORT=\"70000\""));
}

}  // namespace
}  // namespace avsl::dist
