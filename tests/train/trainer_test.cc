// Trainer: bit-exact resume after a mid-epoch interruption, atomic checkpoints under SIGKILL, NaN handling,
// run-directory contents, --init-from. Uses a tiny method and an in-memory dataset registered by the test.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/dataset.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/train/trainer.h"
#include "tiny_components.h"

namespace avsl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterTinyComponents(host_);
    root_ = ::testing::TempDir() + "/trainer_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Recipe MakeRecipe(const std::vector<std::string>& sets = {}) {
    const std::string text = testing::kTinyRecipe;
    absl::StatusOr<Recipe> r = Recipe::Parse(text, "tiny.toml", ".", sets);
    EXPECT_TRUE(r.ok()) << r.status();
    absl::Status s = r->Validate(host_);
    EXPECT_TRUE(s.ok()) << s;
    return std::move(*r);
  }

  absl::StatusOr<std::string> Train(const Recipe& recipe, train::TrainerOptions options, absl::Status* run_status) {
    if (options.output_root == "runs") options.output_root = root_;
    auto trainer = train::Trainer::Create(recipe, "tiny", host_, options);
    if (!trainer.ok()) return trainer.status();
    absl::StatusOr<train::StopReason> stopped = (*trainer)->Run();
    *run_status = stopped.status();
    if (stopped.ok()) last_stop_ = *stopped;
    return (*trainer)->run_dir();
  }

  std::map<std::string, torch::Tensor> Weights(const std::string& checkpoint) {
    auto method = std::make_shared<testing::TinyMethod>(-1);
    absl::Status s = checkpoint::LoadMethodWeights(checkpoint, *method);
    EXPECT_TRUE(s.ok()) << s;
    std::map<std::string, torch::Tensor> out;
    for (const auto& p : method->named_parameters()) out[p.key()] = p.value().clone();
    return out;
  }

  PluginHost host_;
  std::string root_;
  train::StopReason last_stop_ = train::StopReason::kCompleted;
};

TEST_F(TrainerTest, RunDirectoryHoldsEverything) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe(), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  for (const char* f : {"recipe.toml", "command.txt", "env.json", "log.txt", "metrics.jsonl", "train_state.json",
                        "checkpoints/last.pt", "checkpoints/best_ap.pt", "curve.png", "eval/test_last/metrics.json",
                        "eval/test_last/per_sample.csv", "eval/test_best_ap/metrics.json"}) {
    EXPECT_TRUE(fs::exists(fs::path(*dir) / f)) << f;
  }
  std::ifstream jsonl(fs::path(*dir) / "metrics.jsonl");
  int train_lines = 0, val_lines = 0;
  for (std::string line; std::getline(jsonl, line);) {
    // log_every 1: each train record carries the method's StepOutput::logs of its own step (1, 2, ..., 6).
    if (line.find("\"split\":\"train\"") != std::string::npos) {
      EXPECT_THAT(line, HasSubstr(absl::StrCat("\"steps_seen\":", train_lines + 1, ".0")));
    }
    train_lines += line.find("\"split\":\"train\"") != std::string::npos;
    val_lines += line.find("\"split\":\"val\"") != std::string::npos;
  }
  EXPECT_EQ(train_lines, 6);  // 12 samples / batch 4 = 3 steps per epoch, 2 epochs, log_every 1
  EXPECT_EQ(val_lines, 2);
  std::ifstream env(fs::path(*dir) / "env.json");
  std::string env_text((std::istreambuf_iterator<char>(env)), {});
  EXPECT_THAT(env_text, HasSubstr("\"torch_version\""));
  EXPECT_THAT(env_text, HasSubstr("\"seed\": 3"));
}

TEST_F(TrainerTest, ExtraLossesTrainOnTheStepsMapsAndNeedThem) {
  absl::Status status;
  // A method that returns no StepOutput::maps cannot feed an extra loss: the error names the key and the method.
  absl::StatusOr<std::string> refused = Train(MakeRecipe({"losses=[{type=\"tiny.MapMean\"}]"}), {}, &status);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("'losses'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("tiny.Method"));
  // With the maps of the same forward, the extra loss trains (no second forward through Localize).
  absl::StatusOr<std::string> trained = Train(
      MakeRecipe({"losses=[{type=\"tiny.MapMean\"}]", "model.return_maps=true"}), {}, &status);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(last_stop_, train::StopReason::kCompleted);
}

TEST_F(TrainerTest, TheMethodSeesTheLoopsEvents) {
  testing::TinyMethod::EventCounts().clear();
  absl::Status status;
  ASSERT_TRUE(Train(MakeRecipe(), {}, &status).ok());
  ASSERT_TRUE(status.ok()) << status;
  auto count = [](TrainEvent::Type t) { return testing::TinyMethod::EventCounts()[static_cast<int>(t)]; };
  EXPECT_EQ(count(TrainEvent::Type::kRunStart), 1);
  EXPECT_EQ(count(TrainEvent::Type::kEpochStart), 2);
  EXPECT_EQ(count(TrainEvent::Type::kStepEnd), 6);  // 2 epochs of 3 steps
  EXPECT_EQ(count(TrainEvent::Type::kEpochEnd), 2);
  EXPECT_EQ(count(TrainEvent::Type::kValidationEnd), 2);
  EXPECT_EQ(count(TrainEvent::Type::kRunEnd), 1);
}

TEST_F(TrainerTest, AnyMetricFieldCanBeMonitored) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"train.monitor=\"val.auc\""}), {}, &status);
  ASSERT_TRUE(dir.ok() && status.ok()) << status;
  EXPECT_TRUE(fs::exists(fs::path(*dir) / "checkpoints" / "best_auc.pt"));
  EXPECT_TRUE(fs::exists(fs::path(*dir) / "eval" / "test_best_auc" / "metrics.json"));
  // A name outside the metric-field table is refused with the list of valid names.
  auto bad = train::Trainer::Create(MakeRecipe({"train.monitor=\"val.nope\""}), "tiny", host_, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("loc_acc, auc, mean_ciou, pointing, ap"));
}

TEST_F(TrainerTest, InterruptedMidEpochAndResumedIsBitIdentical) {
  absl::Status status;
  absl::StatusOr<std::string> full = Train(MakeRecipe(), {}, &status);
  ASSERT_TRUE(full.ok() && status.ok()) << status;

  train::TrainerOptions first;
  first.max_steps = 4;  // epoch 0 has 3 steps: stop one step into epoch 1
  absl::StatusOr<std::string> part = Train(MakeRecipe(), first, &status);
  ASSERT_TRUE(part.ok());
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(last_stop_, train::StopReason::kMaxSteps);
  std::ifstream state_file(fs::path(*part) / "train_state.json");
  std::string state((std::istreambuf_iterator<char>(state_file)), {});
  EXPECT_THAT(state, HasSubstr("\"batch_in_epoch\": 1"));
  EXPECT_THAT(state, HasSubstr("\"epoch\": 1"));

  train::TrainerOptions resume;
  resume.resume_dir = *part;
  absl::StatusOr<std::string> resumed = Train(MakeRecipe(), resume, &status);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*resumed, *part);

  auto a = Weights(fs::path(*full) / "checkpoints" / "last.pt");
  auto b = Weights(fs::path(*part) / "checkpoints" / "last.pt");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

TEST_F(TrainerTest, NanLossStopsNamingTheStepAndKeepsTheLastGoodCheckpoint) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"model.nan_at_step=5"}), {}, &status);
  ASSERT_TRUE(dir.ok());
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("non-finite loss (nan) at epoch 1, batch 1, step 4"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("batch keys: k0_"));
  // Epoch 0 finished and saved; that checkpoint is intact.
  checkpoint::CheckpointContents c;
  testing::TinyMethod method(-1);
  c.method = &method;
  ASSERT_TRUE(checkpoint::LoadCheckpoint(fs::path(*dir) / "checkpoints" / "last.pt", c).ok());
  EXPECT_EQ(c.state.epoch, 1);
  EXPECT_EQ(c.state.global_step, 3);
  std::ifstream log(fs::path(*dir) / "log.txt");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_THAT(text, HasSubstr("ERROR: non-finite loss"));
}

TEST_F(TrainerTest, InitFromLoadsWeightsOnly) {
  absl::Status status;
  absl::StatusOr<std::string> source = Train(MakeRecipe(), {}, &status);
  ASSERT_TRUE(source.ok() && status.ok());
  train::TrainerOptions init;
  init.init_from = (fs::path(*source) / "checkpoints" / "last.pt").string();
  absl::StatusOr<std::string> copy = Train(MakeRecipe({"train.epochs=0"}), init, &status);
  ASSERT_TRUE(copy.ok() && status.ok()) << status;
  auto a = Weights(init.init_from);
  auto b = Weights(fs::path(*copy) / "checkpoints" / "last.pt");
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

TEST_F(TrainerTest, EarlyStopSelectionNeedsAValidationSet) {
  Recipe recipe = MakeRecipe();
  absl::StatusOr<Recipe> no_val = Recipe::Parse(recipe.ToToml(), "x.toml", ".", {});
  ASSERT_TRUE(no_val.ok());
  // Drop data.val by replacing the data table.
  absl::StatusOr<Recipe> r = Recipe::Parse(R"(
[data]
train = { type = "tiny.Data" }
[model]
type = "tiny.Method"
)",
                                           "noval.toml", ".", {});
  ASSERT_TRUE(r.ok() && r->Validate(host_).ok());
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(*r, {}, &status);
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("train.select = \"early_stop\" needs data.val"));
}

TEST_F(TrainerTest, Bf16AutocastAndChannelsLastTrainOnCpu) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"amp=\"bf16\"", "channels_last=true"}), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  std::ifstream jsonl(fs::path(*dir) / "metrics.jsonl");
  int finite = 0;
  for (std::string line; std::getline(jsonl, line);) finite += line.find("\"loss\":") != std::string::npos;
  EXPECT_EQ(finite, 6);
}

TEST_F(TrainerTest, KilledDuringCheckpointSaveLeavesThePreviousOneLoadable) {
  testing::TinyMethod method(-1);
  checkpoint::CheckpointContents c;
  c.method = &method;
  c.recipe_toml = std::string(1 << 20, '#');  // a larger file makes a kill mid-write likely
  const std::string path = root_ + "/ckpt.pt";
  fs::create_directories(root_);
  ASSERT_TRUE(checkpoint::SaveCheckpoint(path, c).ok());
  for (int attempt = 0; attempt < 6; ++attempt) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (long long i = 0;; ++i) {
        c.state.global_step = i;
        (void)checkpoint::SaveCheckpoint(path, c);
      }
    }
    usleep(20000 + attempt * 7000);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    checkpoint::CheckpointContents loaded;
    testing::TinyMethod target(-1);
    loaded.method = &target;
    absl::Status s = checkpoint::LoadCheckpoint(path, loaded);
    EXPECT_TRUE(s.ok()) << "attempt " << attempt << ": " << s;
  }
}

}  // namespace
}  // namespace avsl
