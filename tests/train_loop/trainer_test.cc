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

#include "avsl/core/dataset.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/train/trainer.h"
#include "avsl/train/training_checkpoint.h"

namespace avsl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Deterministic samples: everything is a function of (index, offset), so any worker computes the same.
class TinyDataset final : public Dataset {
 public:
  TinyDataset(size_t size, uint64_t offset) : size_(size), offset_(offset) {}
  size_t size() const override { return size_; }
  std::string Describe(size_t i) const override { return "tiny sample " + std::to_string(i); }
  absl::StatusOr<Sample> Get(size_t index, const SampleContext&) const override {
    std::mt19937 rng(static_cast<uint32_t>(index + offset_ * 1000));
    std::normal_distribution<float> normal;
    Sample s;
    s.key = "k" + std::to_string(offset_) + "_" + std::to_string(index);
    s.video_id = s.audio_id = s.key;
    s.image.channels = 3;
    s.image.height = s.image.width = 16;
    s.image.values.resize(3 * 16 * 16);
    for (float& v : s.image.values) v = normal(rng);
    s.audio.freq_bins = 8;
    s.audio.frames = 4;
    s.audio.values.resize(32);
    for (float& v : s.audio.values) v = normal(rng);
    s.gt_map = Map2D(224, 224);
    const int x0 = static_cast<int>(index * 37 % 150);
    for (int y = 40; y < 120; ++y)
      for (int x = x0; x < x0 + 70; ++x) s.gt_map.at(y, x) = 1.0;
    s.has_gt = true;
    s.sounding = true;
    s.class_id = static_cast<int>(index % 2);
    return s;
  }

 private:
  size_t size_;
  uint64_t offset_;
};

// Cosine similarity between projected pixels and projected audio, with dropout (so resuming must restore
// the RNG state) and an optional NaN at a given step.
class TinyMethod final : public Method {
 public:
  explicit TinyMethod(long long nan_at_step) : nan_at_step_(nan_at_step) {
    image_ = register_module("image", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 1)));
    audio_ = register_module("audio", torch::nn::Linear(32, 4));
  }
  StepOutput TrainStep(const Batch& b) override {
    torch::Tensor sim = Similarity(b);
    torch::Tensor logits = std::get<0>(sim.flatten(2).max(2)) / 0.1;
    torch::Tensor labels = torch::arange(logits.size(0), torch::kLong);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
    if (++steps_ == nan_at_step_) loss = loss * std::numeric_limits<float>::quiet_NaN();
    return {loss, {}};
  }
  Localization Localize(const Batch& b) override {
    Localization loc;
    loc.maps = Similarity(b).diagonal(0, 0, 1).permute({2, 0, 1});
    loc.range_min = -1;
    loc.range_max = 1;
    return loc;
  }

 private:
  torch::Tensor Similarity(const Batch& b) {
    torch::Tensor v = torch::dropout(image_(b.image), 0.2, is_training());
    v = torch::nn::functional::normalize(v, torch::nn::functional::NormalizeFuncOptions().dim(1));
    torch::Tensor a = torch::nn::functional::normalize(audio_(b.audio.flatten(1)),
                                                       torch::nn::functional::NormalizeFuncOptions().dim(1));
    return torch::einsum("ad,bdhw->abhw", {a, v});
  }
  long long nan_at_step_;
  long long steps_ = 0;
  torch::nn::Conv2d image_{nullptr};
  torch::nn::Linear audio_{nullptr};
};

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Registrar r("tiny");
    Schema m("tiny method");
    m.Int("nan_at_step", -1, "make the loss NaN at this step (1-based)");
    r.Register<Method>("Method", std::move(m), [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Method>> {
      return std::make_shared<TinyMethod>(c.GetInt("nan_at_step"));
    }, "");
    Schema d("tiny dataset");
    d.Int("size", 12, "samples").Min(1);
    d.Int("offset", 0, "which samples").Min(0);
    r.Register<Dataset>("Data", std::move(d), [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Dataset>> {
      return std::make_shared<TinyDataset>(c.GetInt("size"), c.GetInt("offset"));
    }, "");
    ASSERT_TRUE(r.status().ok());
    ASSERT_TRUE(host_.mutable_registry().Commit(r.staged()).ok());
    root_ = ::testing::TempDir() + "/trainer_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Recipe MakeRecipe(const std::vector<std::string>& sets = {}) {
    const std::string text = R"(
seed = 3
threads = 2
[data]
batch_size = 4
eval_batch_size = 5
workers = 2
train = { type = "tiny.Data", size = 12 }
val = { type = "tiny.Data", size = 5, offset = 1 }
test = { type = "tiny.Data", size = 6, offset = 2 }
[model]
type = "tiny.Method"
[optim]
type = "core.Adam"
lr = 0.01
[train]
epochs = 2
log_every = 1
monitor = "val.ap"
)";
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
    *run_status = (*trainer)->Run();
    return (*trainer)->run_dir();
  }

  std::map<std::string, torch::Tensor> Weights(const std::string& checkpoint) {
    auto method = std::make_shared<TinyMethod>(-1);
    absl::Status s = train::LoadMethodWeights(checkpoint, *method);
    EXPECT_TRUE(s.ok()) << s;
    std::map<std::string, torch::Tensor> out;
    for (const auto& p : method->named_parameters()) out[p.key()] = p.value().clone();
    return out;
  }

  PluginHost host_;
  std::string root_;
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

TEST_F(TrainerTest, InterruptedMidEpochAndResumedIsBitIdentical) {
  absl::Status status;
  absl::StatusOr<std::string> full = Train(MakeRecipe(), {}, &status);
  ASSERT_TRUE(full.ok() && status.ok()) << status;

  train::TrainerOptions first;
  first.max_steps = 4;  // epoch 0 has 3 steps: stop one step into epoch 1
  absl::StatusOr<std::string> part = Train(MakeRecipe(), first, &status);
  ASSERT_TRUE(part.ok());
  ASSERT_TRUE(absl::IsCancelled(status)) << status;
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
  train::CheckpointContents c;
  TinyMethod method(-1);
  c.method = &method;
  ASSERT_TRUE(train::LoadCheckpoint(fs::path(*dir) / "checkpoints" / "last.pt", c).ok());
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
)", "noval.toml", ".", {});
  ASSERT_TRUE(r.ok() && r->Validate(host_).ok());
  absl::Status status;
  absl::StatusOr<std::string> dir = Train(*r, {}, &status);
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("train.select = \"early_stop\" needs data.val"));
}

TEST_F(TrainerTest, KilledDuringCheckpointSaveLeavesThePreviousOneLoadable) {
  TinyMethod method(-1);
  train::CheckpointContents c;
  c.method = &method;
  c.recipe_toml = std::string(1 << 20, '#');  // a larger file makes a kill mid-write likely
  const std::string path = root_ + "/ckpt.pt";
  fs::create_directories(root_);
  ASSERT_TRUE(train::SaveCheckpoint(path, c).ok());
  for (int attempt = 0; attempt < 6; ++attempt) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (long long i = 0;; ++i) {
        c.state.global_step = i;
        (void)train::SaveCheckpoint(path, c);
      }
    }
    usleep(20000 + attempt * 7000);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    train::CheckpointContents loaded;
    TinyMethod target(-1);
    loaded.method = &target;
    absl::Status s = train::LoadCheckpoint(path, loaded);
    EXPECT_TRUE(s.ok()) << "attempt " << attempt << ": " << s;
  }
}

}  // namespace
}  // namespace avsl
