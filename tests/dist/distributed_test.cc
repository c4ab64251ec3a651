// Data-parallel training end to end: this binary launches itself (LaunchLocal, as `avsl train --nproc-per-node`
// does) as the ranks of a Gloo job on loopback, each training a tiny recipe; the test compares what the ranks hold.
// (a) world size 1 under the launcher is bit-identical to the plain trainer; (b) 2 ranks x batch B/2 end with the
// weights of 1 rank x batch B for a loss that is a mean over samples, and for EZ-VSL's contrastive loss on
// BatchNorm encoders with train.global_negatives and train.sync_bn; (c) every rank holds identical weights;
// (e) kill -9 of one rank makes the other exit naming it; (f) a run resumes from 2 ranks to 1 and from 1 to 2 at
// the same sample position. (d), the sharding itself, is in loader_test.
#include <signal.h>
#include <unistd.h>

#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "avsl/core/options.h"
#include "avsl/core/registrar.h"
#include "avsl/dist/launch_env.h"
#include "avsl/models/two_tower.h"
#include "avsl/train/map_evaluation.h"
#include "avsl/train/sharded_evaluation.h"
#include "avsl/train/trainer.h"
#include "local_launcher.h"
#include "tiny_components.h"

namespace avsl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A loss that is a mean over samples (no in-batch negatives, no dropout, no batch statistics): the gradient of a
// batch of B equals the average of the gradients of its two halves, so 2 ranks x B/2 must train like 1 x B.
// Records the keys it trains on (AVSL_TEST_KEYS_DIR) and kills itself at a step (AVSL_TEST_KILL_RANK/_STEP).
class PointwiseMethod final : public Method {
 public:
  PointwiseMethod() {
    image_ = register_module("image", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 1)));
    audio_ = register_module("audio", torch::nn::Linear(32, 4));
  }
  StepOutput TrainStep(const Batch& b) override {
    ++steps_;
    const char* kill_rank = std::getenv("AVSL_TEST_KILL_RANK");
    const char* rank = std::getenv("RANK");
    if (kill_rank != nullptr && rank != nullptr && std::string(kill_rank) == rank &&
        steps_ == std::atoll(std::getenv("AVSL_TEST_KILL_STEP"))) {
      raise(SIGKILL);
    }
    if (const char* dir = std::getenv("AVSL_TEST_KEYS_DIR")) {
      std::ofstream out(fs::path(dir) / absl::StrCat("keys_", getpid(), ".txt"), std::ios::app);
      for (const std::string& key : b.keys) out << epoch_ << " " << key << "\n";
    }
    torch::Tensor score = Scores(b).mean({1, 2});
    torch::Tensor target = b.class_id.to(torch::kFloat);  // of the sample, not of its place in the batch
    return {(score - target).pow(2).mean(), {}, {}};
  }
  void OnTrainEvent(const TrainEvent& event) override {
    if (event.type == TrainEvent::Type::kEpochStart) epoch_ = event.epoch;
  }
  Localization Localize(const Batch& b) override {
    Localization loc;
    loc.maps = Scores(b);
    return loc;
  }

 private:
  torch::Tensor Scores(const Batch& b) {
    torch::Tensor v = image_(b.image);
    torch::Tensor a = audio_(b.audio.flatten(1));
    return torch::einsum("bd,bdhw->bhw", {a, v});
  }
  long long steps_ = 0, epoch_ = 0;
  torch::nn::Conv2d image_{nullptr};
  torch::nn::Linear audio_{nullptr};
};

// EZ-VSL's objective (in-batch negatives) on ResNet encoders (BatchNorm): the samples of a batch are coupled
// through the negatives and the batch statistics, so 2 ranks x B/2 train like 1 x B only with both
// train.global_negatives and train.sync_bn.
class CoupledMethod final : public models::TwoTowerLocalizer {
 public:
  CoupledMethod(std::shared_ptr<Encoder> image, std::shared_ptr<Encoder> audio, const models::TwoTowerOptions& o)
      : TwoTowerLocalizer(std::move(image), std::move(audio), o, "dist.Coupled") {}
};

void RegisterComponents(PluginHost& host) {
  testing::RegisterTinyComponents(host);
  Registrar r("dist");
  Options<models::TwoTowerOptions> coupled("EZ-VSL's two towers and loss");
  models::AddTwoTowerOptions(coupled);
  r.Register<Method>(
      "Coupled", coupled.schema(),
      [coupled](const ComponentConfig& c) { return models::BuildTwoTower<CoupledMethod>(coupled, c); }, "");
  r.Register<Method>(
      "Pointwise", Schema("a mean-over-samples loss"),
      [](const ComponentConfig&) -> absl::StatusOr<std::shared_ptr<Method>> {
        return std::make_shared<PointwiseMethod>();
      },
      "");
  if (!r.status().ok() || !host.mutable_registry_for_testing().Commit(r.staged()).ok()) std::abort();
}

std::vector<float> Flatten(const Method& method) {
  std::vector<float> out;
  for (const torch::Tensor& p : method.parameters()) {
    torch::Tensor c = p.detach().to(torch::kFloat).contiguous().reshape({-1});
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The rank side: `distributed_test --worker RECIPE OUTPUT_ROOT [--resume RUN] [--max-steps N] [--init-from CKPT]`, in
// the environment the launcher set. Writes weights_rank<R>.bin (the rank's final parameters) and run_dir.txt (rank 0)
// into $AVSL_TEST_OUT.
int Worker(int argc, char** argv) {
  PluginHost host;
  RegisterComponents(host);
  train::TrainerOptions options;
  options.output_root = argv[3];
  for (int i = 4; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--resume") options.resume_dir = argv[i + 1];
    if (std::string(argv[i]) == "--max-steps") options.max_steps = std::atoll(argv[i + 1]);
    if (std::string(argv[i]) == "--init-from") options.init_from = argv[i + 1];
  }
  absl::StatusOr<dist::LaunchEnv> launch = dist::ReadLaunchEnv();
  if (!launch.ok()) {
    std::cerr << launch.status() << "\n";
    return 1;
  }
  options.launch = *launch;
  absl::StatusOr<Recipe> recipe = Recipe::Parse(ReadText(argv[2]), argv[2], ".", {});
  if (!recipe.ok() || !recipe->Validate(host).ok()) {
    std::cerr << "bad recipe " << argv[2] << "\n";
    return 1;
  }
  auto trainer = train::Trainer::Create(*recipe, "dist", host, options);
  if (!trainer.ok()) {
    std::cerr << "rank " << launch->rank << ": " << trainer.status() << "\n";
    return 1;
  }
  absl::StatusOr<train::StopReason> stopped = (*trainer)->Run();
  if (!stopped.ok()) {
    std::cerr << "rank " << launch->rank << ": " << stopped.status() << "\n";
    return 1;
  }
  const fs::path out = std::getenv("AVSL_TEST_OUT");
  const std::vector<float> weights = Flatten((*trainer)->method());
  std::ofstream(out / absl::StrCat("weights_rank", launch->rank, ".bin"), std::ios::binary)
      .write(reinterpret_cast<const char*>(weights.data()), static_cast<std::streamsize>(weights.size() * 4));
  if (launch->rank == 0) std::ofstream(out / "run_dir.txt") << (*trainer)->run_dir();
  return 0;
}

std::vector<float> ReadWeights(const fs::path& path) {
  const std::string bytes = ReadText(path);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

class DistributedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterComponents(host_);
    root_ = fs::path(::testing::TempDir()) /
            absl::StrCat("dist_test_", getpid(), "_", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    setenv("AVSL_TEST_OUT", root_.c_str(), 1);
  }
  void TearDown() override {
    fs::remove_all(root_);
    for (const char* v : {"AVSL_TEST_OUT", "AVSL_TEST_KEYS_DIR", "AVSL_TEST_KILL_RANK", "AVSL_TEST_KILL_STEP"}) {
      unsetenv(v);
    }
  }

  std::string WriteRecipe(const std::string& name, const std::string& text) {
    const fs::path path = root_ / (name + ".toml");
    std::ofstream(path) << text;
    return path.string();
  }

  cli::LaunchResult Launch(int nproc, const std::string& recipe, std::vector<std::string> extra = {},
                           double grace = 30) {
    cli::LaunchSpec spec;
    spec.executable = fs::read_symlink("/proc/self/exe").string();
    spec.args = {"--worker", recipe, (root_ / "runs").string()};
    spec.args.insert(spec.args.end(), extra.begin(), extra.end());
    spec.nproc = nproc;
    spec.grace_seconds = grace;
    spec.label = "distributed_test";
    absl::StatusOr<cli::LaunchResult> result = cli::LaunchLocal(spec);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : cli::LaunchResult{-1, {}, {}};
  }

  PluginHost host_;
  fs::path root_;
};

// The recipe of these tests, with the batch, the model, the optimizer and extra [train] keys filled in.
constexpr const char* kRecipe = R"(
seed = 5
threads = 1
[data]
batch_size = BATCH
eval_batch_size = 3
workers = 1
train = { type = "tiny.Data", size = 16 }
val = { type = "tiny.Data", size = 7, offset = 1 }
[model]
MODEL
[optim]
OPTIM
[train]
epochs = 2
log_every = 1
monitor = "val.loc_acc"
test_at_end = false
dist_timeout_s = 20
TRAIN_KEYS
)";

std::string MakeRecipe(int batch, const std::string& model, const std::string& optim,
                       const std::string& train_keys = "") {
  return absl::StrReplaceAll(
      kRecipe, {{"BATCH", std::to_string(batch)}, {"MODEL", model}, {"OPTIM", optim}, {"TRAIN_KEYS", train_keys}});
}

std::string WithBatch(int batch) {
  return MakeRecipe(batch, "type = \"dist.Pointwise\"", "type = \"core.Adam\"\nlr = 0.01");
}

TEST_F(DistributedTest, WorldSizeOneUnderTheLauncherIsBitIdenticalToThePlainTrainer) {
  const std::string text = absl::StrCat(testing::kTinyRecipe, "dist_timeout_s = 20\n");
  const std::string path = WriteRecipe("tiny", text);
  cli::LaunchResult launched = Launch(1, path);
  ASSERT_EQ(launched.exit_code, 0);

  absl::StatusOr<Recipe> recipe = Recipe::Parse(text, path, ".", {});
  ASSERT_TRUE(recipe.ok() && recipe->Validate(host_).ok());
  train::TrainerOptions options;
  options.output_root = (root_ / "plain").string();
  auto trainer = train::Trainer::Create(*recipe, "tiny", host_, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Run().ok());
  const std::vector<float> plain = Flatten((*trainer)->method());
  const std::vector<float> launched_weights = ReadWeights(root_ / "weights_rank0.bin");
  ASSERT_EQ(plain.size(), launched_weights.size());
  EXPECT_EQ(std::memcmp(plain.data(), launched_weights.data(), plain.size() * 4), 0) << "not bit-identical";
}

TEST_F(DistributedTest, TwoRanksOfHalfBatchesTrainLikeOneRankOfTheWholeBatch) {
  ASSERT_EQ(Launch(1, WriteRecipe("one", WithBatch(8))).exit_code, 0);
  const std::vector<float> one = ReadWeights(root_ / "weights_rank0.bin");
  const std::string one_dir = ReadText(root_ / "run_dir.txt");
  ASSERT_EQ(Launch(2, WriteRecipe("two", WithBatch(4))).exit_code, 0);
  const std::vector<float> two = ReadWeights(root_ / "weights_rank0.bin");
  const std::string two_dir = ReadText(root_ / "run_dir.txt");
  EXPECT_LT(MaxAbsDiff(one, two), 1e-5);
  EXPECT_EQ(MaxAbsDiff(two, ReadWeights(root_ / "weights_rank1.bin")), 0.0f);

  // The sharded validation gathers every sample: the same validated counts as one process, and values that
  // differ only by the weights' last bits.
  auto val = [](const std::string& dir) {
    std::vector<nlohmann::json> out;
    std::ifstream in(fs::path(dir) / "metrics.jsonl");
    for (std::string line; std::getline(in, line);) {
      nlohmann::json j = nlohmann::json::parse(line);
      if (j["split"] == "val") out.push_back(j);
    }
    return out;
  };
  const auto v1 = val(one_dir), v2 = val(two_dir);
  ASSERT_EQ(v1.size(), 2u);
  ASSERT_EQ(v2.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(v1[e]["n_sounding"], v2[e]["n_sounding"]);
    EXPECT_NEAR(v1[e]["mean_ciou"].get<double>(), v2[e]["mean_ciou"].get<double>(), 1e-4);
  }
  // Only rank 0 writes the run directory; its log names the job and the global batch.
  EXPECT_THAT(ReadText(fs::path(two_dir) / "log.txt"), HasSubstr("data-parallel: 2 processes"));
  EXPECT_THAT(ReadText(fs::path(two_dir) / "log.txt"), HasSubstr("batch 4 per process = 8 global"));
  EXPECT_THAT(ReadText(fs::path(two_dir) / "metrics.jsonl"), HasSubstr("\"rank_step_s\":["));
}

// Small ResNets (BatchNorm everywhere), EZ-VSL's loss, plain SGD (no Adam normalization to magnify rounding).
std::string Coupled(int batch, const std::string& train_keys) {
  return MakeRecipe(batch,
                    "type = \"dist.Coupled\"\ndim = 8\ntau = 0.2\n"
                    "image_encoder = { type = \"core.ResNet18Image\", width = 4, blocks = [1, 1, 1, 1], "
                    "layer4_stride = 1 }\n"
                    "audio_encoder = { type = \"core.ResNet18Audio\", width = 4, blocks = [1, 1, 1, 1] }",
                    "type = \"core.SGD\"\nlr = 0.01", train_keys);
}

TEST_F(DistributedTest, GlobalNegativesAndSyncBnMakeHalfBatchesOnTwoRanksTrainLikeTheWholeBatch) {
  ASSERT_EQ(Launch(1, WriteRecipe("one", Coupled(8, ""))).exit_code, 0);
  const std::vector<float> one = ReadWeights(root_ / "weights_rank0.bin");
  ASSERT_EQ(Launch(2, WriteRecipe("two", Coupled(4, "global_negatives = true\nsync_bn = true\n"))).exit_code, 0);
  const std::vector<float> two = ReadWeights(root_ / "weights_rank0.bin");
  EXPECT_LT(MaxAbsDiff(one, two), 1e-5);
  EXPECT_EQ(MaxAbsDiff(two, ReadWeights(root_ / "weights_rank1.bin")), 0.0f);
  const std::string log = ReadText(fs::path(ReadText(root_ / "run_dir.txt")) / "log.txt");
  EXPECT_THAT(log, HasSubstr("global negatives (every rank's embeddings)"));
  EXPECT_THAT(log, HasSubstr("synchronized BatchNorm statistics"));

  // Each rank on its own negatives and statistics (the reference under DDP) trains another model: the comparison
  // above can fail.
  ASSERT_EQ(Launch(2, WriteRecipe("local", Coupled(4, ""))).exit_code, 0);
  EXPECT_GT(MaxAbsDiff(one, ReadWeights(root_ / "weights_rank0.bin")), 1e-4);
}

TEST_F(DistributedTest, UnevenRankBatchesAreWeightedByTheirShare) {
  // Sample 5 fails to load and is skipped: one process trains on a batch of 7 once, two ranks on 4 and 3. Each
  // rank's loss is weighted by its share of the step's samples, so the runs still agree.
  auto broken = [](std::string text) {
    const std::string line = "train = { type = \"tiny.Data\", size = 16 }";
    return text.replace(text.find(line), line.size(),
                        "train = { type = \"tiny.Data\", size = 16, broken = [5] }\non_error = \"skip\"");
  };
  ASSERT_EQ(Launch(1, WriteRecipe("one", broken(Coupled(8, "")))).exit_code, 0);
  const std::vector<float> one = ReadWeights(root_ / "weights_rank0.bin");
  ASSERT_EQ(Launch(2, WriteRecipe("two", broken(Coupled(4, "global_negatives = true\nsync_bn = true\n")))).exit_code,
            0);
  EXPECT_LT(MaxAbsDiff(one, ReadWeights(root_ / "weights_rank0.bin")), 1e-5);
}

TEST_F(DistributedTest, GlobalNegativesAreRefusedForAMethodThatGathersNothing) {
  std::string text = WithBatch(4);
  text += "global_negatives = true\n";
  EXPECT_NE(Launch(2, WriteRecipe("pointwise", text)).exit_code, 0);
  fs::path log;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "runs"))
    if (e.path().filename() == "log.txt") log = e.path();
  ASSERT_FALSE(log.empty());
  EXPECT_THAT(ReadText(log), HasSubstr("recipe key 'train.global_negatives' = true: method 'dist.Pointwise' gathered "
                                       "no embeddings"));
}

TEST_F(DistributedTest, EveryRankHoldsIdenticalWeights) {
  // tiny.Method: in-batch negatives and dropout; ranks see different samples, yet step with the same gradient.
  const std::string path = WriteRecipe("tiny", absl::StrCat(testing::kTinyRecipe, "dist_timeout_s = 20\n"));
  ASSERT_EQ(Launch(2, path).exit_code, 0);
  const std::vector<float> r0 = ReadWeights(root_ / "weights_rank0.bin");
  const std::vector<float> r1 = ReadWeights(root_ / "weights_rank1.bin");
  ASSERT_FALSE(r0.empty());
  ASSERT_EQ(r0.size(), r1.size());
  EXPECT_EQ(std::memcmp(r0.data(), r1.data(), r0.size() * 4), 0);
}

TEST_F(DistributedTest, AKilledRankMakesTheOtherExitNamingIt) {
  setenv("AVSL_TEST_KILL_RANK", "1", 1);
  setenv("AVSL_TEST_KILL_STEP", "3", 1);
  std::string text = WithBatch(2);
  text.replace(text.find("epochs = 2"), 10, "epochs = 50");
  const auto start = std::chrono::steady_clock::now();
  cli::LaunchResult launched = Launch(2, WriteRecipe("kill", text), {}, /*grace=*/40);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(launched.exit_code, 0);
  ASSERT_EQ(launched.exits.size(), 2u);
  EXPECT_EQ(launched.exits[1].signal, SIGKILL);
  EXPECT_EQ(launched.exits[0].signal, 0) << "rank 0 did not exit on its own";
  EXPECT_EQ(launched.exits[0].exit_code, 1);
  EXPECT_LT(seconds, 30);  // dist_timeout_s = 20, and the loss of a peer's connection is noticed at once
  // Rank 0's log ends with the error naming the lost rank.
  fs::path run;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "runs"))
    if (e.path().filename() == "log.txt") run = e.path();
  ASSERT_FALSE(run.empty());
  EXPECT_THAT(ReadText(run), HasSubstr("lost rank 1"));
}

// Keys trained on in epoch 0, over every process that wrote AVSL_TEST_KEYS_DIR.
std::multiset<std::string> EpochZeroKeys(const fs::path& dir) {
  std::multiset<std::string> keys;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path());
    long long epoch;
    std::string key;
    while (in >> epoch >> key)
      if (epoch == 0) keys.insert(key);
  }
  return keys;
}

nlohmann::json TrainState(const std::string& run_dir) {
  return nlohmann::json::parse(ReadText(fs::path(run_dir) / "train_state.json"));
}

TEST_F(DistributedTest, ResumesAcrossWorldSizesAtTheSameSamplePosition) {
  const std::string path = WriteRecipe("pointwise", WithBatch(2));
  // 2 ranks, 2 steps: 2 x 2 x 2 = 8 positions of epoch 0; then 1 rank takes the remaining 8, 2 per step.
  fs::create_directories(root_ / "keys_a");
  setenv("AVSL_TEST_KEYS_DIR", (root_ / "keys_a").c_str(), 1);
  ASSERT_EQ(Launch(2, path, {"--max-steps", "2"}).exit_code, 0);
  const std::string run = ReadText(root_ / "run_dir.txt");
  EXPECT_EQ(TrainState(run)["samples_in_epoch"], 8);
  EXPECT_EQ(TrainState(run)["world_size"], 2);
  ASSERT_EQ(Launch(1, path, {"--resume", run, "--max-steps", "5"}).exit_code, 0);
  EXPECT_EQ(TrainState(run)["epoch"], 1);  // epoch 0 completed in 4 steps; the 5th is epoch 1's first
  EXPECT_EQ(TrainState(run)["samples_in_epoch"], 2);
  std::multiset<std::string> keys = EpochZeroKeys(root_ / "keys_a");
  EXPECT_EQ(keys.size(), 16u);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 16u) << "a sample was seen twice";

  // 1 rank, 3 steps: position 6; then 2 ranks share the remaining 10: 5 each, two full batches of 2 per rank.
  fs::create_directories(root_ / "keys_b");
  setenv("AVSL_TEST_KEYS_DIR", (root_ / "keys_b").c_str(), 1);
  ASSERT_EQ(Launch(1, path, {"--max-steps", "3"}).exit_code, 0);
  const std::string run_b = ReadText(root_ / "run_dir.txt");
  EXPECT_EQ(TrainState(run_b)["samples_in_epoch"], 6);
  ASSERT_EQ(Launch(2, path, {"--resume", run_b, "--max-steps", "1"}).exit_code, 0);
  EXPECT_EQ(TrainState(run_b)["samples_in_epoch"], 10);  // 6 + one step of 2 ranks x 2
  EXPECT_EQ(TrainState(run_b)["global_step"], 4);
  keys = EpochZeroKeys(root_ / "keys_b");
  EXPECT_EQ(keys.size(), 10u);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 10u) << "a sample was seen twice";
}

// The final test is sharded like the validation (7 test samples: 4 on rank 0, 3 on rank 1) and merged: two ranks
// write the eval/ files one process writes for the same weights, per_sample.csv byte for byte.
TEST_F(DistributedTest, ShardedFinalTestWritesWhatOneProcessWrites) {
  auto with_test = [](std::string text, int epochs) {
    return absl::StrReplaceAll(text, {{"test_at_end = false", "test_at_end = true"},
                                      {"epochs = 2", absl::StrCat("epochs = ", epochs)},
                                      {"val = { type = \"tiny.Data\", size = 7, offset = 1 }",
                                       "val = { type = \"tiny.Data\", size = 7, offset = 1 }\n"
                                       "test = { type = \"tiny.Data\", size = 7, offset = 3 }"}});
  };
  ASSERT_EQ(Launch(2, WriteRecipe("two", with_test(WithBatch(4), 2))).exit_code, 0);
  const fs::path two = ReadText(root_ / "run_dir.txt");
  ASSERT_TRUE(fs::exists(two / "checkpoints" / "last.pt"));
  ASSERT_EQ(Launch(1, WriteRecipe("one", with_test(WithBatch(8), 0)),
                   {"--init-from", (two / "checkpoints" / "last.pt").string()})
                .exit_code,
            0);
  const fs::path one = ReadText(root_ / "run_dir.txt");
  ASSERT_NE(one, two);
  const std::string csv = ReadText(two / "eval" / "test_last" / "per_sample.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 8) << csv;  // header + 7 samples
  EXPECT_EQ(csv, ReadText(one / "eval" / "test_last" / "per_sample.csv"));
  EXPECT_EQ(nlohmann::json::parse(ReadText(two / "eval" / "test_last" / "metrics.json")),
            nlohmann::json::parse(ReadText(one / "eval" / "test_last" / "metrics.json")));
}

// A test sample that fails to load on rank 1 (index 3 of 7: rank 1's shard is 1, 3, 5) stops both ranks at once,
// rank 0 with the cause: rank 1 joins the exchange with its error instead of leaving rank 0 waiting.
TEST_F(DistributedTest, AFailedTestShardStopsEveryRankWithItsCause) {
  std::string text = absl::StrReplaceAll(WithBatch(4),
                                         {{"test_at_end = false", "test_at_end = true"},
                                          {"val = { type = \"tiny.Data\", size = 7, offset = 1 }",
                                           "val = { type = \"tiny.Data\", size = 7, offset = 1 }\n"
                                           "test = { type = \"tiny.Data\", size = 7, offset = 3, broken = [3] }"}});
  const auto start = std::chrono::steady_clock::now();
  cli::LaunchResult launched = Launch(2, WriteRecipe("broken_test", text), {}, /*grace=*/40);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(launched.exits.size(), 2u);
  for (const cli::RankExit& e : launched.exits) {
    EXPECT_EQ(e.signal, 0);
    EXPECT_EQ(e.exit_code, 1);
  }
  EXPECT_LT(seconds, 15);  // dist_timeout_s = 20: nobody waited for a peer
  fs::path log;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "runs"))
    if (e.path().filename() == "log.txt") log = e.path();
  ASSERT_FALSE(log.empty());
  EXPECT_THAT(ReadText(log), HasSubstr("rank 1's share of the evaluation failed"));
  EXPECT_THAT(ReadText(log), HasSubstr("broken on purpose"));
}

TEST(ShardRecords, RoundTripIsExactAndTruncationIsNamed) {
  train::MethodEvaluation local;
  local.confidence = "slavc_max";
  SampleRecord a;
  a.key = "k0_3";
  a.ciou = 0.1 + 0.2;  // not representable in few digits: the bytes must survive
  a.conf = -1e-300;
  a.sounding = true;
  a.bucket = SizeBucket::kLarge;
  a.pointing_hit = true;
  a.area = 1234.5;
  SampleRecord b;
  b.key = "silent";
  local.result.samples = {a, b};
  local.indices = {7, 2};
  local.contributions = {{"frame_a", 4321, true, {0.1 + 0.7, 1.0 / 3}}, {"frame_a", -1, false, {}}};
  local.negatives = {{9, "noise", "frame_a", "k0_3_noise", 0.25 + 1e-17, 17}};
  const std::string bytes = train::EncodeShard(local);
  train::MethodEvaluation out;
  ASSERT_TRUE(train::DecodeShard(bytes, 1, &out).ok());
  EXPECT_EQ(out.confidence, "slavc_max");
  ASSERT_EQ(out.result.samples.size(), 2u);
  EXPECT_EQ(out.indices, (std::vector<size_t>{7, 2}));
  EXPECT_EQ(out.result.samples[0].key, "k0_3");
  EXPECT_EQ(out.result.samples[0].ciou, a.ciou);
  EXPECT_EQ(out.result.samples[0].conf, a.conf);
  EXPECT_EQ(out.result.samples[0].area, a.area);
  EXPECT_EQ(out.result.samples[0].bucket, SizeBucket::kLarge);
  EXPECT_TRUE(out.result.samples[0].pointing_hit);
  EXPECT_FALSE(out.result.samples[1].sounding);
  EXPECT_FALSE(out.result.samples[1].bucket.has_value());
  ASSERT_EQ(out.contributions.size(), 2u);
  EXPECT_EQ(out.contributions[0].frame, "frame_a");
  EXPECT_EQ(out.contributions[0].peak, 4321);
  EXPECT_TRUE(out.contributions[0].interactive);
  EXPECT_EQ(out.contributions[0].scores.ciou, 0.1 + 0.7);
  EXPECT_EQ(out.contributions[0].scores.ciou_adaptive, 1.0 / 3);
  EXPECT_FALSE(out.contributions[1].interactive);
  ASSERT_EQ(out.negatives.size(), 1u);
  EXPECT_EQ(out.negatives[0].index, 9u);
  EXPECT_EQ(out.negatives[0].kind, "noise");
  EXPECT_EQ(out.negatives[0].key, "k0_3_noise");
  EXPECT_EQ(out.negatives[0].conf, 0.25 + 1e-17);
  EXPECT_EQ(out.negatives[0].peak, 17);
  train::MethodEvaluation cut;
  absl::Status status = train::DecodeShard(bytes.substr(0, bytes.size() - 3), 1, &cut);
  EXPECT_THAT(status.message(), HasSubstr("rank 1 are malformed"));
  // An empty shard (a rank with no test sample) decodes to nothing but its rule; the merge takes the rule of the
  // shard that holds the split's last sample.
  train::MethodEvaluation empty, into;
  empty.confidence = "generic (top-25% mean)";
  ASSERT_TRUE(train::DecodeShard(train::EncodeShard(empty), 0, &into).ok());
  EXPECT_EQ(into.confidence, "generic (top-25% mean)");
  EXPECT_TRUE(into.result.samples.empty() && into.indices.empty() && into.negatives.empty());
}

}  // namespace
}  // namespace avsl

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "--worker") return avsl::Worker(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
