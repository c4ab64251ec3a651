// Trainer: bit-exact resume after a mid-epoch interruption and after a stop on an epoch's last batch, atomic
// checkpoints under SIGKILL, NaN handling, run-directory contents, --init-from, the epoch line and records of the
// method's logged values (partial epochs, values logged on some steps), the training curve (train.curve), one-line
// errors from a method's TORCH_CHECK (on stderr once), the evaluation's guards (confidence length, training mode),
// the tie rule of checkpoint selection and early stopping, finished runs. Uses a tiny method and an in-memory
// dataset registered by the test.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/checkpoint/zip_reader.h"
#include "avsl/core/dataset.h"
#include "avsl/core/hook.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/core/registrar.h"
#include "avsl/data/loader.h"
#include "avsl/io/run_dir.h"
#include "avsl/metrics/metric_fields.h"
#include "avsl/train/error_text.h"
#include "avsl/train/map_evaluation.h"
#include "avsl/train/run_report.h"
#include "avsl/train/trainer.h"
#include "avsl/train/trainer_hooks.h"
#include "tiny_components.h"

namespace avsl {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Lines of metrics.jsonl that contain `needle`.
std::vector<std::string> JsonlLines(const fs::path& path, const std::string& needle) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

// Width and height from a PNG's IHDR chunk (bytes 16-23, big-endian).
std::pair<int, int> PngSize(const fs::path& path) {
  const std::string bytes = ReadFile(path);
  if (bytes.size() < 24 || bytes.compare(1, 3, "PNG") != 0) return {-1, -1};
  auto be32 = [&](size_t at) {
    int v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// A recipe without data.val (so nothing is validated).
constexpr const char* kNoValRecipe = R"(
seed = 3
threads = 2
[data]
batch_size = 4
workers = 2
train = { type = "tiny.Data", size = 12 }
[model]
type = "tiny.Method"
[optim]
type = "core.Adam"
lr = 0.01
[train]
epochs = 2
log_every = 1
select = "last"
)";

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
  EXPECT_EQ(JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train_epoch\"").size(), 2u);
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

  // The epoch records say how many steps their means cover: all 3 of epoch 1; of epoch 2 only the 2 steps run
  // after the resume, marked partial (the uninterrupted run has no partial epoch).
  const std::vector<std::string> epochs = JsonlLines(fs::path(*part) / "metrics.jsonl", "\"split\":\"train_epoch\"");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_THAT(epochs[0], HasSubstr("\"epoch\":1,"));
  EXPECT_THAT(epochs[0], HasSubstr("\"steps\":3,"));
  EXPECT_THAT(epochs[0], Not(HasSubstr("\"partial\"")));
  EXPECT_THAT(epochs[1], HasSubstr("\"epoch\":2,"));
  EXPECT_THAT(epochs[1], HasSubstr("\"partial\":true,"));
  EXPECT_THAT(epochs[1], HasSubstr("\"steps\":2,"));
  EXPECT_THAT(epochs[1], HasSubstr("\"steps_seen\":1.5"));  // the resumed method counts its steps from 1 again
  const std::string log = ReadFile(fs::path(*part) / "log.txt");
  EXPECT_THAT(log, HasSubstr(" (steps_seen 1.5) (partial epoch: 2 of 3 steps), val loc_acc "));
  for (const std::string& line : JsonlLines(fs::path(*full) / "metrics.jsonl", "\"split\":\"train_epoch\"")) {
    EXPECT_THAT(line, HasSubstr("\"steps\":3,"));
    EXPECT_THAT(line, Not(HasSubstr("\"partial\"")));
  }
  EXPECT_THAT(ReadFile(fs::path(*full) / "log.txt"), Not(HasSubstr("partial epoch")));
}

// A stop (--max-steps, a signal) on an epoch's last batch saves last.pt before the epoch ends; the resumed
// invocation ends that epoch with no step to average. It writes no train_epoch record and no train part for it (the
// validation line says "epoch 1: val ..."), sends NaN as the kEpochEnd loss, and train.curve is checked on the
// first epoch that had steps (no false warning). The weights equal an uninterrupted run's.
TEST_F(TrainerTest, StoppedOnAnEpochsLastBatchTheResumeLogsNoEmptyEpoch) {
  const std::vector<std::string> sets = {"train.curve=[\"steps_seen\"]"};
  absl::Status status;
  absl::StatusOr<std::string> full = Train(MakeRecipe(sets), {}, &status);
  ASSERT_TRUE(full.ok() && status.ok()) << status;

  train::TrainerOptions first;
  first.max_steps = 3;  // the last of epoch 0's 3 batches
  absl::StatusOr<std::string> part = Train(MakeRecipe(sets), first, &status);
  ASSERT_TRUE(part.ok()) << part.status();
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(last_stop_, train::StopReason::kMaxSteps);
  const std::string state = ReadFile(fs::path(*part) / "train_state.json");
  EXPECT_THAT(state, HasSubstr("\"batch_in_epoch\": 3"));
  EXPECT_THAT(state, HasSubstr("\"epoch\": 0"));
  EXPECT_TRUE(JsonlLines(fs::path(*part) / "metrics.jsonl", "\"split\":\"train_epoch\"").empty());

  testing::TinyMethod::EpochEndLosses().clear();
  train::TrainerOptions resume;
  resume.resume_dir = *part;
  absl::StatusOr<std::string> resumed = Train(MakeRecipe(sets), resume, &status);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(last_stop_, train::StopReason::kCompleted);

  const fs::path metrics = fs::path(*part) / "metrics.jsonl";
  const std::vector<std::string> epochs = JsonlLines(metrics, "\"split\":\"train_epoch\"");
  ASSERT_EQ(epochs.size(), 1u);  // epoch 2 only
  EXPECT_THAT(epochs[0], HasSubstr("\"epoch\":2,"));
  EXPECT_THAT(epochs[0], HasSubstr("\"steps\":3,"));
  EXPECT_THAT(epochs[0], Not(HasSubstr("\"partial\"")));
  EXPECT_THAT(epochs[0], Not(HasSubstr("\"loss\":null")));
  EXPECT_EQ(JsonlLines(metrics, "\"split\":\"val\"").size(), 2u);  // epoch 1 is validated in the resumed invocation
  const std::string log = ReadFile(fs::path(*part) / "log.txt");
  EXPECT_THAT(log, HasSubstr("  epoch 1: val loc_acc "));
  EXPECT_THAT(log, Not(HasSubstr("epoch 1: train loss")));
  EXPECT_THAT(log, HasSubstr("epoch 2: train loss "));
  EXPECT_THAT(log, Not(HasSubstr("WARNING: recipe key 'train.curve'")));
  EXPECT_THAT(log, HasSubstr("training curve: "));
  const std::vector<double>& losses = testing::TinyMethod::EpochEndLosses();
  ASSERT_EQ(losses.size(), 2u);
  EXPECT_TRUE(std::isnan(losses[0]));
  EXPECT_TRUE(std::isfinite(losses[1]));

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

// A hook that sends the process SIGTERM at the end of a given step, as an operator's `kill` would.
class TermAtStepHook final : public Hook {
 public:
  explicit TermAtStepHook(long long step) : step_(step) {}
  absl::StatusOr<HookAction> OnEvent(const TrainEvent& event) override {
    if (event.type == TrainEvent::Type::kStepEnd && event.step == step_) raise(SIGTERM);
    return HookAction::kContinue;
  }

 private:
  long long step_;
};

int g_outer_signal = 0;
extern "C" void OuterHandler(int signal) { g_outer_signal = signal; }

TEST_F(TrainerTest, SigtermFinishesTheStepSavesAndRestoresTheCallersHandler) {
  Registrar r("sig");
  Schema schema("raise SIGTERM at a step");
  schema.Int("step", 2, "the step");
  r.Register<Hook>(
      "TermAt", std::move(schema),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Hook>> {
        return std::make_shared<TermAtStepHook>(c.GetInt("step"));
      },
      "");
  ASSERT_TRUE(r.status().ok());
  ASSERT_TRUE(host_.mutable_registry_for_testing().Commit(r.staged()).ok());
  struct sigaction outer {
  }, previous{}, after{};
  outer.sa_handler = OuterHandler;
  sigemptyset(&outer.sa_mask);
  sigaction(SIGTERM, &outer, &previous);

  Recipe recipe = MakeRecipe({"hooks=[{type=\"sig.TermAt\", step=2}]"});
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(recipe, {}, &status);
  sigaction(SIGTERM, &previous, &after);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(last_stop_, train::StopReason::kSigterm);
  EXPECT_EQ(g_outer_signal, 0) << "the trainer's handler, not the caller's, got the signal";
  EXPECT_EQ(after.sa_handler, &OuterHandler) << "the caller's handler was not restored";
  EXPECT_THAT(ReadFile(fs::path(*dir) / "train_state.json"), HasSubstr("\"global_step\": 2"));
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

  // train.select_on_test: the test split is loaded once, as the validation split, and not tested again at the end.
  absl::StatusOr<Recipe> on_test = Recipe::Parse(R"(
seed = 3
threads = 1
[data]
batch_size = 4
train = { type = "tiny.Data", size = 8 }
test = { type = "tiny.Data", size = 6, offset = 2 }
[model]
type = "tiny.Method"
[train]
epochs = 2
select_on_test = true
)",
                                                 "ontest.toml", ".", {});
  ASSERT_TRUE(on_test.ok() && on_test->Validate(host_).ok());
  dir = Train(*on_test, {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(ReadFile(fs::path(*dir) / "log.txt"), HasSubstr("WARNING: model selection uses the TEST split"));
  const std::vector<std::string> val = JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"val\"");
  ASSERT_EQ(val.size(), 2u);
  EXPECT_THAT(val[0], HasSubstr("\"n_sounding\":6"));
  EXPECT_FALSE(fs::exists(fs::path(*dir) / "eval")) << "the selection split must not be tested again";
}

TEST_F(TrainerTest, Bf16AutocastAndChannelsLastTrainOnCpu) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"amp=\"bf16\"", "channels_last=true"}), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  // Every train record (6 steps) and epoch record (2 epochs) holds a finite loss (NaN would be written as null).
  int finite = 0;
  for (const std::string& line : JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train"))
    finite += line.find("\"loss\":") != std::string::npos && line.find("\"loss\":null") == std::string::npos;
  EXPECT_EQ(finite, 8);
}

// (a) The method's logged values: their epoch means in the epoch line of log.txt and in metrics.jsonl's epoch
// record. tiny.Method logs steps_seen = 1, 2, 3 in epoch 1 and 4, 5, 6 in epoch 2: means 2 and 5.
TEST_F(TrainerTest, LoggedValuesAppearAsEpochMeansInTheEpochLineAndRecords) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe(), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  const std::string log = ReadFile(fs::path(*dir) / "log.txt");
  EXPECT_THAT(log, HasSubstr("epoch 1: train loss "));
  EXPECT_THAT(log, HasSubstr(" (steps_seen 2), val loc_acc "));
  EXPECT_THAT(log, HasSubstr(" (steps_seen 5), val loc_acc "));
  const std::vector<std::string> epochs = JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train_epoch\"");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_THAT(epochs[0], HasSubstr("\"epoch\":1,"));
  EXPECT_THAT(epochs[0], HasSubstr("\"steps_seen\":2.0"));
  EXPECT_THAT(epochs[0], HasSubstr("\"step\":3,"));
  EXPECT_THAT(epochs[1], HasSubstr("\"epoch\":2,"));
  EXPECT_THAT(epochs[1], HasSubstr("\"steps_seen\":5.0"));
  EXPECT_THAT(epochs[1], HasSubstr("\"loss\":"));
}

// A value the method logs on some steps only is averaged over the steps that logged it. tiny.Method with
// sparse_log logs even_steps = 2 in epoch 1 (steps 1-3) and 4, 6 in epoch 2: means 2 and 5 (not 2/3 and 10/3).
TEST_F(TrainerTest, AValueLoggedOnSomeStepsIsAveragedOverThoseSteps) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"model.sparse_log=true"}), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  const std::vector<std::string> epochs = JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train_epoch\"");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_THAT(epochs[0], HasSubstr("\"even_steps\":2.0"));
  EXPECT_THAT(epochs[1], HasSubstr("\"even_steps\":5.0"));
  const std::string log = ReadFile(fs::path(*dir) / "log.txt");
  EXPECT_THAT(log, HasSubstr(" (even_steps 2, steps_seen 2), val loc_acc "));
  EXPECT_THAT(log, HasSubstr(" (even_steps 5, steps_seen 5), val loc_acc "));
  // log_every 1: a step that did not log the value has no field for it.
  const std::vector<std::string> steps = JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train\"");
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_THAT(steps[0], Not(HasSubstr("even_steps")));
  EXPECT_THAT(steps[1], HasSubstr("\"even_steps\":2.0"));
}

// train.curve draws the method's logged values; a field of the train_epoch records (step, epoch, samples_per_s,
// ...) is refused when the run is built, naming what can be drawn. "loss" (always drawn) is accepted.
TEST_F(TrainerTest, TrainCurveRefusesRecordFields) {
  for (const char* field : {"step", "epoch", "samples_per_s", "steps", "wall_time"}) {
    train::TrainerOptions options;
    options.output_root = root_;
    auto refused = train::Trainer::Create(MakeRecipe({absl::StrCat("train.curve=[\"steps_seen\", \"", field, "\"]")}),
                                          "tiny", host_, options);
    ASSERT_FALSE(refused.ok()) << field;
    const std::string message(refused.status().message());
    EXPECT_THAT(message, HasSubstr(absl::StrCat("recipe key 'train.curve': \"", field,
                                                "\" is a field of the train_epoch records (split, epoch, step, steps, "
                                                "partial, loss, samples_per_s, wall_time), not a value the method "
                                                "logs; curve.png draws the training loss (always) and the names the "
                                                "method logs in StepOutput::logs")));
  }
  train::TrainerOptions options;
  options.output_root = root_;
  EXPECT_TRUE(
      train::Trainer::Create(MakeRecipe({"train.curve=[\"loss\", \"steps_seen\"]"}), "tiny", host_, options).ok());
}

TEST_F(TrainerTest, ARunWithoutValidationLogsTrainOnlyEpochLinesAndACurve) {
  absl::StatusOr<Recipe> r = Recipe::Parse(kNoValRecipe, "noval.toml", ".", {});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->Validate(host_).ok());
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(*r, {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  const std::string log = ReadFile(fs::path(*dir) / "log.txt");
  EXPECT_THAT(log, HasSubstr("epoch 1: train loss "));
  EXPECT_THAT(log, HasSubstr(" (steps_seen 2)\n"));  // the line ends there: nothing validated
  EXPECT_THAT(log, HasSubstr("epoch 2: train loss "));
  EXPECT_THAT(log, HasSubstr(" (steps_seen 5)\n"));
  EXPECT_THAT(log, Not(HasSubstr("val loc_acc")));
  // The curve has the training panel only.
  const auto [width, height] = PngSize(fs::path(*dir) / "curve.png");
  EXPECT_EQ(width, 640);
  EXPECT_GT(height, 0);
}

// (b) train.curve: accepted, drawn; a name the method never logs is a warning, not a failure.
TEST_F(TrainerTest, TrainCurveKeyDrawsLoggedValuesAndWarnsAboutUnknownNames) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"train.curve=[\"steps_seen\", \"nope\"]"}), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(last_stop_, train::StopReason::kCompleted);
  ASSERT_TRUE(fs::exists(fs::path(*dir) / "curve.png"));
  const std::string log = ReadFile(fs::path(*dir) / "log.txt");
  EXPECT_THAT(log, HasSubstr("WARNING: recipe key 'train.curve' names \"nope\", which the method did not log in "
                             "epoch 1 (it logged: steps_seen); curve.png leaves it out"));
  EXPECT_THAT(log, HasSubstr("training curve: "));
  // The same file redrawn: the training loss and steps_seen are series of the curve, "nope" is not.
  absl::StatusOr<std::vector<std::string>> drawn = train::WriteTrainingCurve(
      (fs::path(*dir) / "metrics.jsonl").string(), (fs::path(root_) / "again.png").string(), {"steps_seen", "nope"});
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_THAT(*drawn, Contains("train.loss"));
  EXPECT_THAT(*drawn, Contains("train.steps_seen"));
  EXPECT_THAT(*drawn, Contains("val.loc_acc"));
  EXPECT_THAT(*drawn, Not(Contains("train.nope")));
  // A recipe that names no value draws the loss without steps_seen.
  drawn = train::WriteTrainingCurve((fs::path(*dir) / "metrics.jsonl").string(), (fs::path(root_) / "b.png").string());
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_THAT(*drawn, Contains("train.loss"));
  EXPECT_THAT(*drawn, Not(Contains("train.steps_seen")));
}

TEST_F(TrainerTest, TrainingCurveHasAPanelPerKindOfRecord) {
  fs::create_directories(root_);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(fs::path(root_) / name) << text;
    return (fs::path(root_) / name).string();
  };
  const std::string val_only = write("val.jsonl",
                                     "{\"split\":\"val\",\"epoch\":1,\"loc_acc\":0.2,\"ap\":0.1,\"max_f1\":0.3}\n"
                                     "{\"split\":\"val\",\"epoch\":2,\"loc_acc\":0.3,\"ap\":null,\"max_f1\":0.4}\n");
  const std::string train_only = write("train.jsonl",
                                       "{\"split\":\"train\",\"epoch\":0,\"step\":1,\"loss\":9.0}\n"
                                       "{\"split\":\"train_epoch\",\"epoch\":1,\"loss\":2.5,\"x\":0.5}\n"
                                       "{\"split\":\"train_epoch\",\"epoch\":2,\"loss\":2.0,\"x\":0.25}\n");
  const std::string both = write("both.jsonl", ReadFile(val_only) + ReadFile(train_only));
  const std::string png = (fs::path(root_) / "c.png").string();

  absl::StatusOr<std::vector<std::string>> drawn = train::WriteTrainingCurve(val_only, png, {"x"});
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_EQ(*drawn, (std::vector<std::string>{"val.loc_acc", "val.ap", "val.max_f1"}));
  const int val_height = PngSize(png).second;

  drawn = train::WriteTrainingCurve(train_only, png, {"x", "loss"});
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_EQ(*drawn, (std::vector<std::string>{"train.loss", "train.x"}));
  const int train_height = PngSize(png).second;

  drawn = train::WriteTrainingCurve(both, png, {"x"});
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_EQ(*drawn, (std::vector<std::string>{"val.loc_acc", "val.ap", "val.max_f1", "train.loss", "train.x"}));
  EXPECT_EQ(PngSize(png).first, 640);
  EXPECT_GT(val_height, 0);
  EXPECT_GT(train_height, 0);
  EXPECT_GT(PngSize(png).second, std::max(val_height, train_height));

  const std::string empty = write("empty.jsonl", "{\"split\":\"train\",\"epoch\":0,\"loss\":1.0}\nnot json\n");
  drawn = train::WriteTrainingCurve(empty, png, {});
  EXPECT_EQ(drawn.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TrainerTest, ExceptionTextIsOneLineWithoutTheBacktrace) {
  try {
    TORCH_CHECK(false, "boom");
    FAIL() << "TORCH_CHECK did not throw";
  } catch (const c10::Error& e) {
    EXPECT_EQ(train::DescribeException(e, false), "boom");
    EXPECT_THAT(train::DescribeException(e, true), HasSubstr(std::string(train::kBacktraceMarker)));
  }
  EXPECT_EQ(train::DescribeException(std::runtime_error("first\n  second\r\nthird  x "), false),
            "first second third  x");
  EXPECT_EQ(train::OneLineError("a: b\nException raised from f at x.cpp:1 (most recent call first):\nframe #0: g"),
            "a: b");
  EXPECT_EQ(train::OneLineError(std::string(1500, 'x')), std::string(1000, 'x') + " [...]");
  const absl::Status folded = train::WithoutBacktrace(
      absl::DataLossError("loading x.pt: bad file\nException raised from f (most recent call first):\nframe #0"));
  EXPECT_EQ(folded.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(folded.message(), "loading x.pt: bad file");
  const absl::Status table = absl::InternalError("two\nlines");  // no backtrace: left as it is
  EXPECT_EQ(train::WithoutBacktrace(table), table);
}

// (c) A TORCH_CHECK in TrainStep: one line naming the place and the method, in the status and in log.txt.
TEST_F(TrainerTest, MethodExceptionIsOneLineNamingTheMethod) {
  absl::Status status;
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"model.throw_at_step=2"}), {}, &status);
  const std::string stderr_text = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_FALSE(status.ok());
  const std::string message(status.message());
  // The caller reports the error (the CLI prints "avsl train: error: ..."): the trainer writes its ERROR line to
  // log.txt only, so stderr shows the error once. The run's other log lines still reach stderr.
  EXPECT_THAT(stderr_text, HasSubstr("step 1/6"));
  EXPECT_THAT(stderr_text, Not(HasSubstr("ERROR: ")));
  EXPECT_THAT(message, HasSubstr("training failed at epoch 0, batch 1, step 1 in method tiny.Method's TrainStep"));
  EXPECT_THAT(message, EndsWith(": boom"));
  EXPECT_THAT(message, Not(HasSubstr("Exception raised from")));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  const std::string log = ReadFile(fs::path(*dir) / "log.txt");
  EXPECT_THAT(log, HasSubstr("ERROR: " + message + "\n"));
  EXPECT_THAT(log, Not(HasSubstr("Exception raised from")));

  // verbose_errors: the full text with the backtrace, in the status and in log.txt.
  train::TrainerOptions verbose;
  verbose.verbose_errors = true;
  absl::StatusOr<std::string> verbose_dir = Train(MakeRecipe({"model.throw_at_step=2"}), verbose, &status);
  ASSERT_TRUE(verbose_dir.ok()) << verbose_dir.status();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("in method tiny.Method's TrainStep: boom"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("Exception raised from"));
  EXPECT_THAT(ReadFile(fs::path(*verbose_dir) / "log.txt"), HasSubstr("Exception raised from"));
}

TEST_F(TrainerTest, LocalizeExceptionInValidationAndTestIsOneLine) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"model.throw_in_localize=true"}), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_FALSE(status.ok());
  std::string message(status.message());
  EXPECT_THAT(message, HasSubstr("validation after epoch 1 failed: method tiny.Method threw in Localize on the "
                                 "batch of k1_0, "));
  EXPECT_THAT(message, EndsWith(": boom in Localize"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_THAT(ReadFile(fs::path(*dir) / "log.txt"), HasSubstr("ERROR: " + message + "\n"));

  // Nothing to train: the final test (train::EvaluateCheckpoint) fails the same way.
  dir = Train(MakeRecipe({"model.throw_in_localize=true", "train.epochs=0"}), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_FALSE(status.ok());
  message = std::string(status.message());
  EXPECT_THAT(message, HasSubstr("test evaluation of checkpoint 'last' failed: method tiny.Method threw in "
                                 "Localize on the batch of k2_0, "));
  EXPECT_THAT(message, EndsWith(": boom in Localize"));
  EXPECT_THAT(message, Not(HasSubstr("Exception raised from")));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

// A native confidence must hold one value per sample: the error names the method and both lengths. Whatever throws
// while a batch is evaluated (here the caller's on_sample) is one error naming the method and the batch; the
// method is back in training mode either way.
TEST_F(TrainerTest, EvaluationChecksTheConfidenceLengthAndRestoresTrainingMode) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe({"model.confidence_extra=1"}), {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(std::string(status.message()),
            "validation after epoch 1 failed: method tiny.Method's Localize returned a confidence of 6 values (shape "
            "[6]) for a batch of 5 samples; expected 5, one per sample (Localization::confidence)");

  data::LoaderOptions loader_options;
  loader_options.batch_size = 5;
  loader_options.workers = 0;
  loader_options.shuffle = false;
  absl::StatusOr<std::unique_ptr<data::Loader>> loader = data::Loader::Create(
      std::make_shared<testing::TinyDataset>(5, 1), loader_options);
  ASSERT_TRUE(loader.ok()) << loader.status();
  train::MapEvaluationOptions options;
  options.method_name = "tiny.Method";

  testing::TinyMethod wrong_length(-1, false, -1, false, false, false, /*confidence_extra=*/2);
  wrong_length.train();
  absl::StatusOr<train::MethodEvaluation> evaluated = train::EvaluateMethod(wrong_length, **loader, 0, torch::kCPU,
                                                                            options);
  ASSERT_FALSE(evaluated.ok());
  EXPECT_THAT(std::string(evaluated.status().message()),
              HasSubstr("returned a confidence of 7 values (shape [7]) for a batch of 5 samples; expected 5"));
  EXPECT_TRUE(wrong_length.is_training());

  testing::TinyMethod method(-1);
  method.train();
  options.on_sample = [](const Sample& s, const Map2D&, double) -> absl::Status {
    throw std::runtime_error("boom in on_sample");
  };
  evaluated = train::EvaluateMethod(method, **loader, 0, torch::kCPU, options);
  ASSERT_FALSE(evaluated.ok());
  EXPECT_EQ(std::string(evaluated.status().message()),
            "method tiny.Method's evaluation failed in the per-sample output of 'k1_0' on the batch of k1_0, k1_1, "
            "k1_2, k1_3, k1_4: boom in on_sample");
  EXPECT_TRUE(method.is_training());

  // A method in eval mode stays there.
  method.eval();
  options.on_sample = nullptr;
  evaluated = train::EvaluateMethod(method, **loader, 0, torch::kCPU, options);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  EXPECT_FALSE(method.is_training());
}

// core.EarlyStopping and the checkpoint selection share metrics::kMetricTieTolerance: a value within it above the
// best is a tie for both, so it does not reset the patience; a clear rise does.
TEST_F(TrainerTest, EarlyStoppingTreatsWhatSelectionCallsATieAsNoImprovement) {
  const Recipe recipe = MakeRecipe({"hooks=[{type=\"core.EarlyStopping\", monitor=\"val.ap\", patience=2}]"});
  auto make = [&] { return host_.registry().Build<Hook>(recipe.Root().SubArray("hooks")[0]); };
  auto validate = [](Hook& hook, double ap) {
    TrainEvent e;
    e.type = TrainEvent::Type::kValidationEnd;
    e.metrics["val.ap"] = ap;
    absl::StatusOr<HookAction> action = hook.OnEvent(e);
    EXPECT_TRUE(action.ok()) << action.status();
    return action.ok() ? *action : HookAction::kContinue;
  };
  constexpr double kTie = metrics::kMetricTieTolerance;
  absl::StatusOr<std::shared_ptr<Hook>> ties = make();
  ASSERT_TRUE(ties.ok()) << ties.status();
  EXPECT_EQ(validate(**ties, 0.5), HookAction::kContinue);               // the first value improves
  EXPECT_EQ(validate(**ties, 0.5 + 0.5 * kTie), HookAction::kContinue);  // a tie: 1 without improvement
  EXPECT_EQ(validate(**ties, 0.5 + kTie), HookAction::kStopTraining);    // a tie with the highest so far: 2

  absl::StatusOr<std::shared_ptr<Hook>> rises = make();
  ASSERT_TRUE(rises.ok()) << rises.status();
  EXPECT_EQ(validate(**rises, 0.5), HookAction::kContinue);
  EXPECT_EQ(validate(**rises, 0.5), HookAction::kContinue);             // 1 without improvement
  EXPECT_EQ(validate(**rises, 0.5 + 1e-9), HookAction::kContinue);      // a rise: the counter restarts
  EXPECT_EQ(validate(**rises, 0.5 + 1e-9), HookAction::kContinue);      // 1
  EXPECT_EQ(validate(**rises, 0.5 + 1e-9), HookAction::kStopTraining);  // 2
}

// (d) A flat validation metric: ties move best_<metric> to the later epoch, and core.EarlyStopping (patience 2)
// still stops, because a tie is not an improvement.
TEST_F(TrainerTest, FlatMetricSelectsTheLastTiedEpochAndEarlyStoppingStillStops) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(
      MakeRecipe({"model.fixed_maps=true", "train.epochs=6", "train.monitor=\"val.loc_acc\"",
                  "hooks=[{type=\"core.EarlyStopping\", monitor=\"val.loc_acc\", patience=2}]"}),
      {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(last_stop_, train::StopReason::kHook);
  // Validations after epochs 1, 2, 3 give the same value: new best, tie (patience 1), tie (patience 2: stop).
  const std::string log = ReadFile(fs::path(*dir) / "log.txt");
  EXPECT_THAT(log, HasSubstr("new best val.loc_acc = "));
  EXPECT_THAT(log, HasSubstr("ties the best (epoch 1)"));
  EXPECT_THAT(log, HasSubstr("ties the best (epoch 2)"));
  EXPECT_THAT(log, HasSubstr("hook 'core.EarlyStopping' stopped training after epoch 3"));
  EXPECT_THAT(log, HasSubstr("selected checkpoint (early_stop): " +
                             (fs::path(*dir) / "checkpoints" / "best_loc_acc.pt").string() + " (epoch 3)"));
  EXPECT_EQ(JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"val\"").size(), 3u);
  EXPECT_THAT(ReadFile(fs::path(*dir) / "train_state.json"), HasSubstr("\"best_epoch\": 3"));
  checkpoint::CheckpointContents best;
  testing::TinyMethod method(-1);
  best.method = &method;
  ASSERT_TRUE(checkpoint::LoadCheckpoint(fs::path(*dir) / "checkpoints" / "best_loc_acc.pt", best).ok());
  EXPECT_EQ(best.state.epoch, 3);
  EXPECT_EQ(best.state.best_epoch, 3);
  EXPECT_TRUE(fs::exists(fs::path(*dir) / "eval" / "test_best_loc_acc" / "metrics.json"));

  // The hook's stop at the validation finishes the run: --resume trains no further (the hook's counter would
  // restart), it only repeats the run end.
  EXPECT_THAT(ReadFile(fs::path(*dir) / "train_state.json"), HasSubstr("\"finished\": true"));
  train::TrainerOptions resume;
  resume.resume_dir = *dir;
  absl::StatusOr<std::string> resumed = Train(
      MakeRecipe({"model.fixed_maps=true", "train.epochs=6", "train.monitor=\"val.loc_acc\"",
                  "hooks=[{type=\"core.EarlyStopping\", monitor=\"val.loc_acc\", patience=2}]"}),
      resume, &status);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(ReadFile(fs::path(*dir) / "log.txt"),
              HasSubstr("nothing to resume: training was stopped after epoch 3 (train_state.json: finished)"));
  EXPECT_EQ(JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"val\"").size(), 3u);
  EXPECT_EQ(JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train_epoch\"").size(), 3u);
  EXPECT_THAT(ReadFile(fs::path(*dir) / "train_state.json"), HasSubstr("\"global_step\": 9"));
}

// A two-stage recipe (CoarsetoFine's): a tenth of the learning rate from epoch 3 on, and only epochs of the
// second stage may be selected.
TEST_F(TrainerTest, MultiStepScheduleInEpochsAndSelectionWithinTheLastStage) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(
      MakeRecipe({"model.fixed_maps=true", "train.epochs=4", "train.select_from_epoch=3",
                  "train.monitor=\"val.loc_acc\"",
                  "schedule={type=\"core.MultiStep\", milestones=[2], factors=[0.1]}"}),
      {}, &status);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(status.ok()) << status;
  // 12 samples in batches of 4: 3 steps per epoch; the records' step counts the steps done.
  const std::vector<std::string> steps = JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train\"");
  ASSERT_EQ(steps.size(), 12u);
  for (size_t i = 0; i < steps.size(); ++i) {
    const double lr = nlohmann::json::parse(steps[i])["lr"].get<double>();
    EXPECT_DOUBLE_EQ(lr, i < 6 ? 0.01 : 0.001) << steps[i];
  }
  // The metric is flat (fixed maps): without select_from_epoch epoch 1 would be the first best.
  const std::string log = ReadFile(fs::path(*dir) / "log.txt");
  EXPECT_THAT(log, Not(HasSubstr("(epoch 1)")));
  EXPECT_THAT(log, HasSubstr("ties the best (epoch 3)"));
  EXPECT_THAT(log, HasSubstr("selected checkpoint (early_stop): " +
                             (fs::path(*dir) / "checkpoints" / "best_loc_acc.pt").string() + " (epoch 4)"));

  absl::StatusOr<std::string> refused = Train(MakeRecipe({"train.epochs=4", "train.select_from_epoch=5"}), {}, &status);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("recipe key 'train.select_from_epoch' = 5: expected at most train.epochs (4)"));
}

// A run resumed or extended with a larger train.select_from_epoch: a best recorded before the window no longer
// counts, so a lower score inside the window still becomes the selected checkpoint.
TEST(CheckpointSelectionHookTest, ABestFromBeforeTheWindowIsForgotten) {
  const std::string root = ::testing::TempDir() + "/selection_window_" + std::to_string(getpid());
  fs::remove_all(root);
  absl::StatusOr<io::RunDir> run = io::RunDir::Create(root, "tiny");
  ASSERT_TRUE(run.ok()) << run.status();
  checkpoint::TrainState state;
  state.best_value = 0.9;  // stage one's best, epoch 2
  state.best_epoch = 2;
  std::vector<std::string> saved;
  train::TrainerContext ctx;
  ctx.run = &*run;
  ctx.state = &state;
  ctx.save = [&](const std::string& name) {
    saved.push_back(name);
    return absl::OkStatus();
  };
  std::unique_ptr<train::TrainerHook> hook = train::MakeCheckpointSelectionHook("ap", "best_ap", 3);
  train::ValidationRecord v;
  v.values["ap"] = 0.5;
  state.epoch = 3;
  ASSERT_TRUE(hook->OnValidationEnd(ctx, v).ok());
  EXPECT_EQ(saved, std::vector<std::string>{"best_ap"});
  EXPECT_EQ(state.best_epoch, 3);
  EXPECT_DOUBLE_EQ(state.best_value, 0.5);
  EXPECT_THAT(ReadFile(fs::path(run->path()) / "log.txt"),
              HasSubstr("train.select_from_epoch = 3: the best so far (epoch 2) is before it and no longer counts"));
  v.values["ap"] = 0.4;  // inside the window the usual rule holds: lower is not a new best
  state.epoch = 4;
  ASSERT_TRUE(hook->OnValidationEnd(ctx, v).ok());
  EXPECT_EQ(saved.size(), 1u);
  EXPECT_EQ(state.best_epoch, 3);
  fs::remove_all(root);
}

// LibTorch's reader does not check the zip CRC-32s; every load of an avsl checkpoint does, naming file and record.
TEST_F(TrainerTest, AFlippedByteInAnyRecordIsRefusedByEveryLoad) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe(), {}, &status);
  ASSERT_TRUE(dir.ok() && status.ok()) << status;
  const fs::path good = fs::path(*dir) / "checkpoints" / "last.pt";
  absl::StatusOr<checkpoint::ZipReader> zip = checkpoint::ZipReader::Open(good.string());
  ASSERT_TRUE(zip.ok()) << zip.status();
  ASSERT_GT(zip->names().size(), 3u);
  const std::string bytes = ReadFile(good);
  int flipped = 0;
  for (const std::string& name : zip->names()) {
    const checkpoint::ZipEntry* e = zip->Find(name);
    if (e->size == 0 || !zip->Readable(name)) continue;  // deflated code records are LibTorch's to inflate
    std::string damaged = bytes;
    damaged[e->data_offset + e->size / 2] ^= 0x5a;
    const fs::path bad = fs::path(root_) / "bad.pt";
    std::ofstream(bad, std::ios::binary) << damaged;
    const std::string expected = "entry '" + name + "': CRC-32 is ";
    testing::TinyMethod method(-1);
    absl::Status weights = checkpoint::LoadMethodWeights(bad.string(), method);
    EXPECT_THAT(std::string(weights.message()), HasSubstr(expected)) << weights;
    EXPECT_THAT(std::string(weights.message()), HasSubstr(bad.string()));
    checkpoint::CheckpointContents contents;
    contents.method = &method;
    EXPECT_THAT(std::string(checkpoint::LoadCheckpoint(bad.string(), contents).message()), HasSubstr(expected));
    EXPECT_THAT(std::string(checkpoint::ReadCheckpointRecipe(bad.string()).status().message()), HasSubstr(expected));
    ++flipped;
  }
  EXPECT_GT(flipped, 3);  // data.pkl, the version record and the tensor data records
  testing::TinyMethod method(-1);
  EXPECT_TRUE(checkpoint::LoadMethodWeights(good.string(), method).ok());
}

// A run that completed its epochs is finished too, but --resume with a larger train.epochs extends it (the legs of
// plugins/ezvsl/README.md); with the same epochs there is nothing left to train.
TEST_F(TrainerTest, ACompletedRunIsExtendedByALargerEpochCount) {
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(MakeRecipe(), {}, &status);
  ASSERT_TRUE(dir.ok() && status.ok()) << status;
  EXPECT_THAT(ReadFile(fs::path(*dir) / "train_state.json"), HasSubstr("\"finished\": true"));
  train::TrainerOptions resume;
  resume.resume_dir = *dir;
  ASSERT_TRUE(Train(MakeRecipe(), resume, &status).ok());
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train_epoch\"").size(), 2u);
  ASSERT_TRUE(Train(MakeRecipe({"train.epochs=3"}), resume, &status).ok());
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(last_stop_, train::StopReason::kCompleted);
  EXPECT_EQ(JsonlLines(fs::path(*dir) / "metrics.jsonl", "\"split\":\"train_epoch\"").size(), 3u);
  const std::string state = ReadFile(fs::path(*dir) / "train_state.json");
  EXPECT_THAT(state, HasSubstr("\"global_step\": 9"));
  EXPECT_THAT(state, HasSubstr("\"finished\": true"));
  EXPECT_THAT(ReadFile(fs::path(*dir) / "log.txt"), Not(HasSubstr("nothing to resume")));
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
