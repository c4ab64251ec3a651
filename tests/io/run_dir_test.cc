// RunDir's repairs for --resume after a kill: the metrics records past the checkpoint and torn lines go, temporary
// files of writers that no longer run go, those of a live writer stay.
#include "avsl/io/run_dir.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace avsl::io {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

class RunDirRepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::path(::testing::TempDir()) / ("avsl_run_dir_" + std::to_string(getpid()) + "_" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    absl::StatusOr<RunDir> run = RunDir::Create(root_, "r");
    ASSERT_TRUE(run.ok()) << run.status();
    run_ = std::make_unique<RunDir>(*run);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string Read(const std::string& relative) {
    std::ifstream in(run_->File(relative));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void Write(const std::string& relative, const std::string& text) { std::ofstream(run_->File(relative)) << text; }

  std::string root_;
  std::unique_ptr<RunDir> run_;
};

TEST_F(RunDirRepairTest, RecordsAfterTheCheckpointStepAndATornLineAreDropped) {
  Write(
      "metrics.jsonl",
      "{\"split\":\"train\",\"step\":1}\n{\"split\":\"train\",\"step\":2}\n{\"split\":\"val\",\"epoch\":1,\"step\":2}\n"
      "{\"split\":\"train\",\"step\":3}\n{\"split\":\"tra");
  absl::StatusOr<int> dropped = run_->DropMetricsAfterStep(2);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(*dropped, 2);
  EXPECT_EQ(Read("metrics.jsonl"), "{\"split\":\"train\",\"step\":1}\n{\"split\":\"train\",\"step\":2}\n{\"split\":"
                                   "\"val\",\"epoch\":1,\"step\":2}\n");
}

TEST_F(RunDirRepairTest, NothingToDropLeavesTheFileAloneAndAWholeUnterminatedRecordGetsItsNewline) {
  Write("metrics.jsonl", "{\"step\":1}\n");
  const fs::file_time_type before = fs::last_write_time(run_->File("metrics.jsonl"));
  absl::StatusOr<int> none = run_->DropMetricsAfterStep(5);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  EXPECT_EQ(fs::last_write_time(run_->File("metrics.jsonl")), before);
  Write("metrics.jsonl", "{\"step\":1}\n{\"step\":2}");
  absl::StatusOr<int> repaired = run_->DropMetricsAfterStep(5);
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(*repaired, 0);
  EXPECT_EQ(Read("metrics.jsonl"), "{\"step\":1}\n{\"step\":2}\n");
  fs::remove(run_->File("metrics.jsonl"));
  EXPECT_EQ(*run_->DropMetricsAfterStep(0), 0);  // a run killed before its first record
}

TEST_F(RunDirRepairTest, OnlyTheTemporaryFilesOfDeadWritersAreRemoved) {
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  waitpid(dead, nullptr, 0);
  const std::string stale = run_->CheckpointPath("last") + ".tmp-" + std::to_string(dead);
  const std::string live = run_->File("train_state.json.tmp-" + std::to_string(getpid()));
  const std::string other = run_->File("notes.tmp-backup");
  for (const std::string& p : {stale, live, other}) std::ofstream(p) << "x";
  EXPECT_THAT(run_->RemoveStaleTemporaryFiles(), ElementsAre(stale));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
}

// `avsl train --run-dir` / the cells of `avsl grid`: a run exactly where it is asked for; a directory holding a
// checkpoint is refused, one left by an attempt that saved none is reused with its records started anew.
TEST(RunDirCreateAtTest, MakesTheDirectoryRefusesACheckpointAndReusesALeftover) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("avsl_run_dir_at_" + std::to_string(getpid())) / "a" / "b";
  fs::remove_all(dir.parent_path().parent_path());
  absl::StatusOr<RunDir> run = RunDir::CreateAt(dir.string());
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->path(), dir.string());
  EXPECT_TRUE(fs::is_directory(dir / "checkpoints"));
  std::ofstream(dir / "metrics.jsonl") << "{\"step\": 1}\n";
  std::ofstream(dir / "log.txt") << "first attempt\n";
  ASSERT_TRUE(RunDir::CreateAt(dir.string()).ok());
  EXPECT_FALSE(fs::exists(dir / "metrics.jsonl"));
  EXPECT_TRUE(fs::exists(dir / "log.txt"));
  std::ofstream(dir / "checkpoints" / "last.pt") << "x";
  absl::StatusOr<RunDir> again = RunDir::CreateAt(dir.string());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()), ::testing::HasSubstr("resume it with 'avsl train --resume"));
  EXPECT_EQ(RunDir::CreateAt("").status().code(), absl::StatusCode::kInvalidArgument);
  fs::remove_all(dir.parent_path().parent_path());
}

}  // namespace
}  // namespace avsl::io
