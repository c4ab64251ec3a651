#include "local_launcher.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace avsl::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string MakeTempDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat("local_launcher_", name, "_", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every rank runs `sh -c script`; the launcher's lines are told apart from gtest's by their label.
LaunchSpec ShellSpec(const std::string& script, int nproc) {
  LaunchSpec spec;
  spec.executable = "/bin/sh";
  spec.args = {"-c", script};
  spec.nproc = nproc;
  spec.label = "local_launcher_test";
  return spec;
}

// Sets a variable of the test process for one test, as a SLURM allocation or an outer launcher would.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(LocalLauncher, FreeLoopbackPortIsAValidPort) {
  absl::StatusOr<int> port = FreeLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_GE(*port, 1);
  EXPECT_LE(*port, 65535);
}

TEST(LocalLauncher, EveryRankGetsItsEnvironment) {
  const std::string dir = MakeTempDir("env");
  // Inherited values that must not reach the ranks: a SLURM task id, and a rank from an outer launcher.
  ScopedEnv slurm_procid("SLURM_PROCID", "7");
  ScopedEnv slurm_ntasks("SLURM_NTASKS", "16");
  ScopedEnv slurm_localid("SLURM_LOCALID", "3");
  ScopedEnv outer_rank("RANK", "99");
  ScopedEnv kept("AVSL_LAUNCHER_TEST_KEPT", "kept");
  LaunchSpec spec = ShellSpec(
      absl::StrCat("echo \"$RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $MASTER_ADDR $MASTER_PORT\" > ", dir,
                   "/rank_$RANK.txt && echo \"${SLURM_PROCID-unset} ${SLURM_NTASKS-unset} ${SLURM_LOCALID-unset} "
                   "$GROUP_RANK $AVSL_LAUNCHER_TEST_KEPT\" > ",
                   dir, "/other_$RANK.txt"),
      3);
  absl::StatusOr<LaunchResult> result = LaunchLocal(spec);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_THAT(result->failures, ::testing::IsEmpty());
  ASSERT_EQ(result->exits.size(), 3u);

  std::string port;
  for (int rank = 0; rank < 3; ++rank) {
    SCOPED_TRACE(absl::StrCat("rank ", rank));
    EXPECT_EQ(result->exits[rank].rank, rank);
    EXPECT_GT(result->exits[rank].pid, 0);
    EXPECT_EQ(result->exits[rank].exit_code, 0);
    EXPECT_EQ(result->exits[rank].signal, 0);
    std::istringstream line(ReadFile(absl::StrCat(dir, "/rank_", rank, ".txt")));
    std::string r, local_rank, world, local_world, addr, rank_port;
    line >> r >> local_rank >> world >> local_world >> addr >> rank_port;
    EXPECT_EQ(r, std::to_string(rank));
    EXPECT_EQ(local_rank, std::to_string(rank));
    EXPECT_EQ(world, "3");
    EXPECT_EQ(local_world, "3");
    EXPECT_EQ(addr, "127.0.0.1");
    const int port_number = std::atoi(rank_port.c_str());
    EXPECT_GE(port_number, 1);
    EXPECT_LE(port_number, 65535);
    if (rank == 0) port = rank_port;
    EXPECT_EQ(rank_port, port) << "every rank must rendezvous on one port";
    EXPECT_EQ(ReadFile(absl::StrCat(dir, "/other_", rank, ".txt")), "unset unset unset 0 kept\n");
  }
  EXPECT_FALSE(fs::exists(absl::StrCat(dir, "/rank_99.txt")));
}

TEST(LocalLauncher, GivenMasterPortIsUsed) {
  const std::string dir = MakeTempDir("port");
  LaunchSpec spec = ShellSpec(absl::StrCat("echo \"$MASTER_ADDR:$MASTER_PORT\" > ", dir, "/rank_$RANK.txt"), 2);
  spec.master_addr = "10.1.2.3";
  spec.master_port = 29512;
  absl::StatusOr<LaunchResult> result = LaunchLocal(spec);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(ReadFile(dir + "/rank_0.txt"), "10.1.2.3:29512\n");
  EXPECT_EQ(ReadFile(dir + "/rank_1.txt"), "10.1.2.3:29512\n");
}

TEST(LocalLauncher, FailingRankGivesItsExitCode) {
  absl::StatusOr<LaunchResult> result = LaunchLocal(ShellSpec("if [ \"$RANK\" = 1 ]; then exit 3; fi", 2));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 3);
  ASSERT_EQ(result->failures.size(), 1u);
  EXPECT_THAT(result->failures[0], HasSubstr("rank 1 "));
  EXPECT_THAT(result->failures[0], HasSubstr("exited with status 3"));
  ASSERT_EQ(result->exits.size(), 2u);
  EXPECT_EQ(result->exits[0].exit_code, 0);
  EXPECT_EQ(result->exits[1].exit_code, 3);
  EXPECT_EQ(result->exits[1].signal, 0);
}

TEST(LocalLauncher, KilledRankTerminatesTheOthersAfterTheGracePeriod) {
  // exec: rank 0's pid is the sleep itself, so the launcher's SIGTERM ends it (no orphan keeps the test's pipes).
  LaunchSpec spec = ShellSpec("if [ \"$RANK\" = 1 ]; then kill -9 $$; fi; exec sleep 30", 2);
  spec.grace_seconds = 1;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<LaunchResult> result = LaunchLocal(spec);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(seconds, 15) << "rank 0 should have been terminated after the 1 s grace period";
  EXPECT_GE(seconds, 0.9) << "rank 0 should have had its grace period";
  EXPECT_EQ(result->exit_code, 128 + 9);
  ASSERT_EQ(result->failures.size(), 1u) << "rank 0, terminated by the launcher, is not a failure";
  EXPECT_THAT(result->failures[0], HasSubstr("rank 1 "));
  EXPECT_THAT(result->failures[0], HasSubstr("killed by signal 9"));
  ASSERT_EQ(result->exits.size(), 2u);
  EXPECT_EQ(result->exits[1].signal, 9);
  EXPECT_EQ(result->exits[0].signal, SIGTERM);
  EXPECT_EQ(result->exits[0].exit_code, 128 + SIGTERM);
}

TEST(LocalLauncher, MissingExecutableExits127) {
  const std::string missing = MakeTempDir("missing") + "/no_such_program";
  LaunchSpec spec;
  spec.executable = missing;
  spec.nproc = 1;
  spec.label = "local_launcher_test";
  ::testing::internal::CaptureStderr();
  absl::StatusOr<LaunchResult> result = LaunchLocal(spec);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 127);
  ASSERT_EQ(result->failures.size(), 1u);
  EXPECT_THAT(result->failures[0], HasSubstr("rank 0 "));
  EXPECT_THAT(result->failures[0], HasSubstr("exited with status 127"));
  EXPECT_THAT(err, HasSubstr(absl::StrCat("local_launcher_test: rank 0: cannot execute ", missing, ": ")));
}

TEST(LocalLauncher, NoProcessesIsInvalid) {
  LaunchSpec spec = ShellSpec("true", 0);
  absl::StatusOr<LaunchResult> result = LaunchLocal(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("got 0"));
}

volatile std::sig_atomic_t g_test_signal = 0;
extern "C" void OnTestSignal(int signal) { g_test_signal = signal; }

TEST(LocalLauncher, ForwardsSigtermAndRestoresTheHandler) {
  struct sigaction mine = {};
  struct sigaction previous = {};
  mine.sa_handler = OnTestSignal;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(sigaction(SIGTERM, &mine, &previous), 0);
  g_test_signal = 0;
  // The ranks stop like the trainer on SIGTERM: exit 143 (killing their sleep, which would outlive them).
  LaunchSpec spec = ShellSpec("trap 'kill $! 2>/dev/null; exit 143' TERM; sleep 30 & wait", 2);
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    kill(getpid(), SIGTERM);
  });
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<LaunchResult> result = LaunchLocal(spec);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stopper.join();
  struct sigaction now = {};
  sigaction(SIGTERM, nullptr, &now);
  sigaction(SIGTERM, &previous, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(seconds, 15) << "the SIGTERM should have been forwarded to the ranks";
  EXPECT_EQ(result->exit_code, 143);
  EXPECT_THAT(result->failures, ::testing::IsEmpty()) << "a forwarded stop is not a failure";
  EXPECT_EQ(g_test_signal, 0) << "the launcher's handler, not the caller's, should have seen the SIGTERM";
  EXPECT_EQ(now.sa_handler, &OnTestSignal) << "the caller's handler should be back";
}

}  // namespace
}  // namespace avsl::cli
